"""IAM enforced by the local runtime: each function calls moto with its own role's credentials, and every
such call is decided against the role's policies and the resource's policy as AWS would decide it."""

from local.runtime.iam.enforcement import AccessDenied, IamEnforcement
from local.runtime.iam.enforcer import Caller, Denial, Usage
from local.runtime.iam.grants import GrantReport, NamedGrant

__all__ = ["AccessDenied", "Caller", "Denial", "GrantReport", "IamEnforcement", "NamedGrant", "Usage"]
