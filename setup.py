"""Packaging for mapiproxy (also usable through ``pip install .``)."""

from setuptools import find_packages, setup

setup(
    name="mapiproxy",
    version="0.1.0",
    description="A pure-Python Twisted proxy for Microsoft Exchange RPC "
    "(EMSMDB, NSPI, RFR over ncacn_ip_tcp), after OpenChange's MAPIProxy",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="GPL-3.0-or-later",
    python_requires=">=3.11",
    packages=find_packages(exclude=["tests", "tests.*", "bench", "examples", "examples.*"])
    + ["twisted.plugins"],
    package_data={"twisted": ["plugins/mapiproxy_plugin.py"]},
    include_package_data=True,
    install_requires=[
        "twisted[tls]>=23.10",
        "zope.interface>=6",
        "pyspnego>=0.11,<0.13",
        "impacket==0.13.1",
        "pycryptodomex>=3.18",
        "cryptography>=41",
    ],
    extras_require={
        "test": ["hypothesis>=6.80", "dissect.util>=3.20", "wheel", "setuptools"],
    },
    entry_points={
        "console_scripts": [
            "mapiproxy-passwd = mapiproxy.auth.passwdtool:main",
            "mapiproxy-client = mapiproxy.client.cli:main",
        ],
    },
    classifiers=[
        "Framework :: Twisted",
        "Programming Language :: Python :: 3.11",
        "Topic :: Communications :: Email",
        "Topic :: System :: Networking",
    ],
)
