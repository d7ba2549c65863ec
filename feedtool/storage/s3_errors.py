"""botocore's exceptions turned into messages that say what went wrong and what to do.

One place for every credential, region, permission and service failure, so that each one is a
``StorageError`` (exit 2) with one clear sentence, never a traceback. Messages never contain a
credential: only the names of environment variables, never their values, and a service's own
error text only as a short excerpt.
"""

from __future__ import annotations

import os
from typing import Any

from feedtool.errors import InputError, StorageError, excerpt

#: What each kind of request needs, for the "access denied" hint.
PERMISSIONS = {
    "list": "s3:ListBucket on the bucket",
    "read": "s3:GetObject on the bucket's objects",
    "write": "s3:PutObject on the bucket's objects",
    "delete": "s3:DeleteObject on the bucket's objects",
}
_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE")
_REJECTED = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "InvalidClientTokenId",
             "UnrecognizedClientException", "InvalidSecurity")
_EXPIRED = ("ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired", "RequestExpired")
_WRONG_REGION = ("AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException",
                 "InvalidRegion", "301")
_UNAVAILABLE = ("ServiceUnavailable", "SlowDown", "InternalError", "503", "500", "502", "504",
                "RequestTimeout", "RequestTimeTooSkewed")


def empty_credential_variables() -> list[str]:
    """Names of credential variables that are set but empty (an unset GitHub secret looks like that)."""
    return [name for name in _CREDENTIAL_VARIABLES if name in os.environ and not os.environ[name].strip()]


def _credentials_hint() -> str:
    empty = empty_credential_variables()
    if empty:
        return (f"{' and '.join(empty)} {'is' if len(empty) == 1 else 'are'} set but empty (an unset CI secret "
                "arrives that way): set the secret, or unset the variable to use a profile or role")
    return "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in the environment"


def client_setup_error(error: Exception, *, region: str | None, endpoint_url: str | None) -> StorageError | InputError:
    """An error raised while the client is made (credentials resolved, region and endpoint checked)."""
    from botocore import exceptions as bx

    if isinstance(error, bx.PartialCredentialsError):
        variable = getattr(error, "kwargs", {}).get("cred_var") or "a credential"
        return StorageError(f"the credentials are incomplete: {variable} is missing or empty",
                            hint=_credentials_hint())
    if isinstance(error, bx.NoCredentialsError):
        return StorageError("no credentials for the storage service", hint=_credentials_hint())
    if isinstance(error, bx.InvalidRegionError):
        return InputError(f"{excerpt(region or '')!r} is not a region name", field="publish.region",
                          hint="e.g. us-east-1, eu-central-1, auto (R2) or us-west-004 (B2)")
    if isinstance(error, bx.ProfileNotFound):
        return StorageError(f"the AWS profile named in AWS_PROFILE does not exist ({excerpt(str(error))})",
                            hint="fix AWS_PROFILE or ~/.aws/config")
    if isinstance(error, ValueError) and "endpoint" in str(error).lower():
        return InputError(f"{excerpt(endpoint_url or '')!r} is not a usable endpoint URL",
                          field="publish.endpoint_url", hint="write it as https://host[:port]")
    return StorageError(f"cannot set up the storage client: {excerpt(str(error))}")


def service_error(error: Exception, *, action: str, doing: str, where: str, bucket: str,
                  endpoint_url: str | None, region: str | None) -> StorageError:
    """An error from a request: one sentence, the permission or setting to check."""
    from botocore import exceptions as bx

    service = endpoint_url or "AWS S3"
    if isinstance(error, (bx.NoCredentialsError, bx.PartialCredentialsError)):
        return client_setup_error(error, region=region, endpoint_url=endpoint_url)  # type: ignore[return-value]
    if isinstance(error, bx.ReadTimeoutError):
        return StorageError(f"{service} did not answer in time while {doing} {where}",
                            hint="the service is slow or overloaded; publish again (only what is missing is sent)")
    if isinstance(error, (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ConnectionClosedError)):
        return StorageError(f"cannot reach {service} while {doing} {where}",
                            hint="check endpoint_url in podcast.yaml (or --endpoint-url) and your network connection")
    if isinstance(error, bx.ClientError):
        info: dict[str, Any] = error.response.get("Error", {}) or {}
        meta: dict[str, Any] = error.response.get("ResponseMetadata", {}) or {}
        code = str(info.get("Code", "") or meta.get("HTTPStatusCode", ""))
        status = meta.get("HTTPStatusCode")
        if code == "NoSuchBucket" or (code in ("404", "NotFound") and action == "check"):
            return StorageError(f"the bucket {bucket!r} does not exist at {service}",
                                hint="create it first, or fix publish.to / endpoint_url in podcast.yaml")
        if code in _EXPIRED:
            return StorageError(f"the credentials have expired ({code}) while {doing} {where}",
                                hint="get fresh credentials (aws sso login, or the CI step that assumes the role) "
                                     "and publish again")
        if code in _REJECTED:
            return StorageError(f"the storage service rejected the credentials ({code}) while {doing} {where}",
                                hint="check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the profile), and that "
                                     "they belong to this service and account")
        if code in _WRONG_REGION:
            headers = meta.get("HTTPHeaders", {}) or {}
            right = info.get("Region") or headers.get("x-amz-bucket-region")
            told = f"region {region!r}" if region else "the default region"
            if right:
                return StorageError(f"the bucket {bucket!r} is in region {excerpt(str(right))!r}, not {told}",
                                    hint=f"set publish.region: {excerpt(str(right))} in podcast.yaml (or --region)")
            return StorageError(f"the bucket {bucket!r} is not in {told} or not at this endpoint ({code})",
                                hint="set the bucket's region with publish.region (or --region), "
                                     "and check endpoint_url")
        if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled") or status == 403:
            needed = PERMISSIONS.get(action, "s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject")
            return StorageError(f"access denied while {doing} {where} ({code})",
                                hint=f"the key needs {needed}")
        if code in _UNAVAILABLE or (isinstance(status, int) and status >= 500):
            return StorageError(f"{service} kept failing ({code}) while {doing} {where}",
                                hint="the service is having trouble; publish again later (only what is missing "
                                     "is sent, and the live feed is changed last)")
        message = excerpt(str(info.get("Message") or ""), 120)
        return StorageError(f"{code or status} while {doing} {where}" + (f": {message}" if message else ""))
    if isinstance(error, bx.BotoCoreError):
        return StorageError(f"{doing} {where} failed: {excerpt(str(error), 160)}")
    return StorageError(f"{doing} {where} failed: {excerpt(str(error), 160)}")
