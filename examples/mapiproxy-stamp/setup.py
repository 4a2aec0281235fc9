"""
mapiproxy-stamp: an example third-party mapiproxy module, installed as an
ordinary Python package and loaded by name from smb.conf
(C{dcerpc_mapiproxy:modules = stamp}).
"""

from setuptools import setup

setup(
    name="mapiproxy-stamp",
    version="1.0",
    description="Example mapiproxy module: stamps address book display names",
    packages=["mapiproxy_stamp", "twisted.plugins"],
    package_data={"twisted": ["plugins/mapiproxy_stamp_plugin.py"]},
    install_requires=["mapiproxy"],
)
