"""One ComponentResource per concern; `aws_*` for AWS, `hcloud_*` for Hetzner Cloud."""
