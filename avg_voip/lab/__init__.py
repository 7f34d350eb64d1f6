"""Local lab: real Debian 12 SIP hosts in network namespaces, converged by the playbook and verified.

The lab boots each host with systemd-nspawn in a network namespace of its own, serves packages through an
apt-cacher-ng proxy on the host side of the veth links, converges the hosts with ``ansible/site.yml`` and
verifies them with the host policies in ``policies/host`` and with independent probes.
"""
