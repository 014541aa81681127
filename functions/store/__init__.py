"""The data-access layer: the only code that talks to DynamoDB, S3, KMS and Secrets Manager.

One module per table or service (accounts, tokens, oauth_state, posts, quota, dedupe, media, secrets),
each store taking its table name and, optionally, a client; clients.py makes the shared boto3 clients
lazily. Nothing is imported here, so importing one store stays cheap at cold start.
"""
