"""`tiktok-publisher`: the command line of a tiktok-publisher stack (docs/cli.md).

It talks to a deployed stack (found by its CloudFormation outputs, every management call SigV4-signed with
the caller's AWS credentials) or to the local one `make local` runs (`--local`). It is installed on its own
(`pip install .`) and imports nothing from functions/, local/ or infra/.
"""
