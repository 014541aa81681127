"""`python -m publisher_cli`: the same as the `tiktok-publisher` console script."""

from publisher_cli.main import run

run()
