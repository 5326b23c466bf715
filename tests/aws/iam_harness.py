"""IAM as AWS enforces it, on moto's server: every request a deployed component sends is
authorised against its role's policies by a real IAM policy evaluator before moto sees it.

Why at the server and not with botocore event hooks on the clients: the refine job reads and
writes Parquet through pyarrow's S3 filesystem (the AWS C++ SDK), which botocore never sees; at
the server every request of every SDK arrives as S3 and Glue receive it. Which component sent
it is told the way AWS tells it, by the access key: each component runs with its own
credentials (``as_component``: the environment a Lambda or a Glue job gets from its role), and
the guard maps the key of a request's SigV4 ``Credential`` to the component and its role.

Per request the guard derives the IAM authorisations AWS documents for the API operation
(``s3_authorizations``, ``glue_authorizations``: action, resource ARN, condition keys such as
``s3:prefix``; a ``DeleteObjects`` is one ``s3:DeleteObject`` per key; a Data Catalog call needs
the catalog, the database and the table), asks the evaluator (``Evaluator``: Node and
@cloud-copilot/iam-simulate, see tests/aws/iam/simulate.mjs) with the role's identity policy
(tests/aws/iam/rendered_policies.json, rendered by Terraform), and answers a refused one with
AccessDenied as S3 or Glue would, without passing it to moto. A request the guard cannot map
is recorded as unmapped: the permission test fails on it too.

S3's rule for a missing key: GetObject/HeadObject on a key that does not exist answers 404 only
to a caller allowed ``s3:ListBucket`` on the bucket, otherwise 403 (the S3 API reference,
HeadObject and GetObject, "Permissions"). The guard applies it to moto's 404s, evaluating
``s3:ListBucket`` on the bucket with no ``s3:prefix`` key: a ListBucket granted only under an
``s3:prefix`` condition does not count (AWS does not document which prefix, if any, it tests;
the harsher reading is the safe one, and the first deploy checklist confirms it).

Calls AWS services make with a role on its behalf, not through any SDK we run (Lambda's logs,
X-Ray and dead-letter queue, Glue loading its script and modules and writing its logs and
metrics, EventBridge Scheduler invoking the extract Lambda): ``platform_calls`` lists them from
the deployment's names, each with its source, and they are evaluated like the recorded ones.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from moto.moto_server.threaded_moto_server import ThreadedMotoServer

IAM_DIR = Path(__file__).resolve().parent / "iam"
SIMULATOR = IAM_DIR / "simulate.mjs"
ACCOUNT = "123456789012"

#: Each deployed component's credentials (what its role's session would give it).
COMPONENT_KEYS = {
    "extract": "ASIAB3LAKEEXTRACT000",
    "trigger": "ASIAB3LAKETRIGGER000",
    "glue": "ASIAB3LAKEGLUEJOB000",
    "scheduler": "ASIAB3LAKESCHEDULER0",
}
KEY_COMPONENTS = {v: k for k, v in COMPONENT_KEYS.items()}

Context = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Authz:
    """One IAM authorisation a request needs."""

    action: str
    resource: str
    context: Context = ()


@dataclass(frozen=True)
class Decision:
    component: str
    operation: str
    authz: Authz
    result: str  # Allowed | ImplicitlyDenied | ExplicitlyDenied | error: …

    @property
    def allowed(self) -> bool:
        return self.result == "Allowed"

    def line(self) -> str:
        ctx = f" {dict(self.authz.context)}" if self.authz.context else ""
        return (
            f"{self.component}: {self.authz.action} on {self.authz.resource}{ctx} "
            f"({self.operation}) -> {self.result}"
        )


class Unmapped(Exception):
    """A request the guard has no IAM mapping for."""


# ---------------------------------------------------------------------------------------------
# The evaluator
# ---------------------------------------------------------------------------------------------
def node_binary() -> str | None:
    return os.environ.get("B3LAKE_NODE") or shutil.which("node")


def simulator_missing() -> str | None:
    """Why the evaluator cannot run here, or None."""
    if node_binary() is None:
        return "no node on PATH (or B3LAKE_NODE)"
    if not (IAM_DIR / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
        return "@cloud-copilot/iam-simulate not installed (make tools: npm ci in tests/aws/iam)"
    return None


class Evaluator:
    """@cloud-copilot/iam-simulate in one Node process, one JSON line per question; answers cached."""

    def __init__(self) -> None:
        missing = simulator_missing()
        if missing:
            raise RuntimeError(missing)
        self._proc = subprocess.Popen(
            [str(node_binary()), str(SIMULATOR)],
            cwd=IAM_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._lock = threading.Lock()
        self._cache: dict[str, str] = {}
        self.questions = 0

    def evaluate(self, role_arn: str, policy: dict[str, Any], authz: Authz) -> str:
        request = {
            "principal": role_arn,
            "action": authz.action,
            "resource": authz.resource,
            "account": ACCOUNT,
            "context": dict(authz.context),
            "policies": [{"name": "inline", "policy": policy}],
        }
        line = json.dumps(request, sort_keys=True)
        with self._lock:
            if line in self._cache:
                return self._cache[line]
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(line + "\n")
            self._proc.stdin.flush()
            answer = json.loads(self._proc.stdout.readline())
            self.questions += 1
            result = str(answer["result"])
            if result == "error":
                result = f"error: {json.dumps(answer.get('detail'))[:300]}"
            self._cache[line] = result
            return result

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait(timeout=10)


# ---------------------------------------------------------------------------------------------
# Requests -> IAM authorisations
# ---------------------------------------------------------------------------------------------
def _credential(environ: dict[str, Any]) -> tuple[str, str, str] | None:
    """(access key, region, service) of a SigV4 request, from its Authorization header."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    if "Credential=" not in header:
        query = parse_qs(environ.get("QUERY_STRING", ""))
        scope = (query.get("X-Amz-Credential") or [""])[0]
    else:
        scope = header.split("Credential=", 1)[1].split(",", 1)[0].strip()
    parts = scope.split("/")
    if len(parts) < 5:
        return None
    return parts[0], parts[2], parts[3]


def s3_object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def s3_authorizations(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> tuple[str, list[Authz]]:
    """(operation, authorisations) of a path-style S3 request, per the S3 API reference's
    "Permissions" of each operation."""
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    q = parse_qs(query, keep_blank_values=True)
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if not bucket:
        if method == "GET":
            return "ListBuckets", [Authz("s3:ListAllMyBuckets", "*")]
        raise Unmapped(f"{method} /")
    if not key:
        if method == "HEAD":
            return "HeadBucket", [Authz("s3:ListBucket", bucket_arn)]
        if method == "GET":
            if "location" in q:
                return "GetBucketLocation", [Authz("s3:GetBucketLocation", bucket_arn)]
            for sub in ("versioning", "policy", "notification", "uploads", "versions", "acl"):
                if sub in q:
                    raise Unmapped(f"GET bucket ?{sub}")
            context: list[tuple[str, str]] = [("s3:prefix", q.get("prefix", [""])[0])]
            if "delimiter" in q:
                context.append(("s3:delimiter", q["delimiter"][0]))
            if "max-keys" in q:
                context.append(("s3:max-keys", q["max-keys"][0]))
            op = "ListObjectsV2" if q.get("list-type") == ["2"] else "ListObjects"
            return op, [Authz("s3:ListBucket", bucket_arn, tuple(context))]
        if method == "POST" and "delete" in q:
            root = ET.fromstring(body)
            keys = [el.text or "" for el in root.iter() if el.tag.split("}")[-1] == "Key"]
            return "DeleteObjects", [
                Authz("s3:DeleteObject", s3_object_arn(bucket, k)) for k in keys
            ]
        raise Unmapped(f"{method} bucket {sorted(q)}")
    arn = s3_object_arn(bucket, key)
    if "tagging" in q or "acl" in q or "retention" in q or "legal-hold" in q:
        raise Unmapped(f"{method} object {sorted(q)}")
    if method == "HEAD":
        return "HeadObject", [Authz("s3:GetObject", arn)]
    if method == "GET":
        if "uploadId" in q:
            return "ListParts", [Authz("s3:ListMultipartUploadParts", arn)]
        if "versionId" in q:
            return "GetObject", [Authz("s3:GetObjectVersion", arn)]
        return "GetObject", [Authz("s3:GetObject", arn)]
    if method == "PUT":
        source = headers.get("x-amz-copy-source")
        if source:
            src_bucket, _, src_key = unquote(source).lstrip("/").partition("/")
            op = "UploadPartCopy" if "uploadId" in q else "CopyObject"
            return op, [
                Authz("s3:PutObject", arn),
                Authz("s3:GetObject", s3_object_arn(src_bucket, src_key.split("?")[0])),
            ]
        return ("UploadPart" if "uploadId" in q else "PutObject"), [Authz("s3:PutObject", arn)]
    if method == "POST":
        if "uploads" in q:
            return "CreateMultipartUpload", [Authz("s3:PutObject", arn)]
        if "uploadId" in q:
            return "CompleteMultipartUpload", [Authz("s3:PutObject", arn)]
        raise Unmapped(f"POST object {sorted(q)}")
    if method == "DELETE":
        if "uploadId" in q:
            return "AbortMultipartUpload", [Authz("s3:AbortMultipartUpload", arn)]
        return "DeleteObject", [Authz("s3:DeleteObject", arn)]
    raise Unmapped(f"{method} object")


#: Data Catalog operations whose authorisation names one table (the catalog, the database and
#: the table: "Specifying AWS Glue resource ARNs", Data Catalog).
_TABLE_OPS = frozenset(
    {
        "GetTable",
        "DeleteTable",
        "GetPartition",
        "GetPartitions",
        "BatchGetPartition",
        "CreatePartition",
        "BatchCreatePartition",
        "UpdatePartition",
        "BatchUpdatePartition",
        "DeletePartition",
        "BatchDeletePartition",
    }
)
_JOB_OPS = frozenset({"StartJobRun", "GetJobRun", "GetJobRuns", "GetJob", "BatchStopJobRun"})


def glue_authorizations(region: str, target: str, body: bytes) -> tuple[str, list[Authz]]:
    """(operation, authorisations) of a Glue JSON request (``X-Amz-Target: AWSGlue.<op>``)."""
    op = target.split(".", 1)[-1]
    params = json.loads(body or b"{}")
    base = f"arn:aws:glue:{region}:{ACCOUNT}"
    catalog = f"{base}:catalog"
    action = f"glue:{op}"
    if op in _JOB_OPS:
        return op, [Authz(action, f"{base}:job/{params['JobName']}")]
    if op in ("GetDatabase", "CreateDatabase"):
        name = params.get("Name") or params.get("DatabaseInput", {}).get("Name")
        return op, [Authz(action, catalog), Authz(action, f"{base}:database/{name}")]
    if op == "GetDatabases":
        return op, [Authz(action, catalog)]
    database = params.get("DatabaseName")
    if op in ("CreateTable", "UpdateTable"):
        table = params["TableInput"]["Name"]
    elif op == "GetTables":
        table = "*"
    elif op in _TABLE_OPS:
        table = params.get("Name") or params.get("TableName")
    else:
        raise Unmapped(f"glue {op}")
    return op, [
        Authz(action, catalog),
        Authz(action, f"{base}:database/{database}"),
        Authz(action, f"{base}:table/{database}/{table}"),
    ]


# ---------------------------------------------------------------------------------------------
# The guard and the server
# ---------------------------------------------------------------------------------------------
@dataclass
class Guard:
    """Authorises each request of a known component against its role's policy."""

    roles: dict[str, dict[str, Any]]  # component -> {"role": name, "policy": {...}}
    evaluator: Evaluator
    enforce: bool = True
    decisions: list[Decision] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)
    missing_key_403: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def role_arn(self, component: str) -> str:
        return f"arn:aws:iam::{ACCOUNT}:role/{self.roles[component]['role']}"

    def decide(
        self, component: str, operation: str, authz: Authz, *, record: bool = True
    ) -> Decision:
        result = self.evaluator.evaluate(
            self.role_arn(component), self.roles[component]["policy"], authz
        )
        decision = Decision(component, operation, authz, result)
        if record:
            with self._lock:
                self.decisions.append(decision)
        return decision

    def denied(self) -> list[Decision]:
        return [d for d in self.decisions if not d.allowed]

    def summary(self) -> dict[str, dict[str, int]]:
        """{component: {action: count}} of every authorisation asked."""
        out: dict[str, Counter[str]] = {}
        for d in self.decisions:
            out.setdefault(d.component, Counter())[d.authz.action] += 1
        return {c: dict(sorted(n.items())) for c, n in sorted(out.items())}

    def reset(self) -> None:
        with self._lock:
            self.decisions.clear()
            self.unmapped.clear()
            self.missing_key_403.clear()


def _denied_s3(start_response: Callable[..., Any], method: str, why: str) -> list[bytes]:
    body = (
        b"" if method == "HEAD" else (
            '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
            f"<Message>{why}</Message><RequestId>b3lake-guard</RequestId></Error>"
        ).encode()
    )  # fmt: skip
    start_response(
        "403 Forbidden",
        [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
    )
    return [body]


def _denied_json(start_response: Callable[..., Any], why: str) -> list[bytes]:
    body = json.dumps({"__type": "AccessDeniedException", "Message": why}).encode()
    start_response(
        "400 Bad Request",
        [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", "AccessDeniedException"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


class GuardMiddleware:
    def __init__(self, app: Any, guard: Guard) -> None:
        self.app, self.guard = app, guard

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        credential = _credential(environ)
        component = KEY_COMPONENTS.get(credential[0]) if credential else None
        if credential is None or component is None or component not in self.guard.roles:
            return self.app(environ, start_response)  # the harness's own set-up calls
        _, region, service = credential
        method = environ["REQUEST_METHOD"]
        headers = {
            k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        query = environ.get("QUERY_STRING", "")
        target = headers.get("x-amz-target", "")
        body = b""
        needs_body = bool(target) or (service == "s3" and method == "POST" and "delete" in query)
        if needs_body:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
        try:
            if service == "s3":
                operation, authz = s3_authorizations(
                    method, environ.get("PATH_INFO", "/"), query, headers, body
                )
            elif service == "glue":
                operation, authz = glue_authorizations(region, target, body)
            else:
                raise Unmapped(f"service {service} {target or method}")
        except Unmapped as exc:
            with self.guard._lock:
                self.guard.unmapped.append(f"{component}: {exc}")
            return self.app(environ, start_response)
        refused = [
            d for d in (self.guard.decide(component, operation, a) for a in authz) if not d.allowed
        ]
        if refused and self.guard.enforce:
            why = f"b3lake guard: {refused[0].line()}"
            return (
                _denied_s3(start_response, method, why)
                if service == "s3"
                else _denied_json(start_response, why)
            )
        if service == "s3" and operation in ("HeadObject", "GetObject"):
            return self._missing_key_rule(environ, start_response, component, method, authz[0])
        return self.app(environ, start_response)

    def _missing_key_rule(
        self,
        environ: dict[str, Any],
        start_response: Callable[..., Any],
        component: str,
        method: str,
        authz: Authz,
    ) -> Iterable[bytes]:
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.update(status=status, headers=headers)
            return lambda data: None

        result = self.app(environ, capture)
        try:
            data = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        if captured["status"].startswith("404"):
            bucket = authz.resource.split(":::", 1)[1].split("/", 1)[0]
            listing = Authz("s3:ListBucket", f"arn:aws:s3:::{bucket}")
            if not self.guard.decide(component, "(404 or 403?)", listing, record=False).allowed:
                with self.guard._lock:
                    self.guard.missing_key_403.append(f"{component}: {authz.resource}")
                return _denied_s3(start_response, method, "missing key, no s3:ListBucket")
        start_response(captured["status"], captured["headers"])
        return [data]


class GuardedMotoServer(ThreadedMotoServer):
    """moto's threaded server with the guard in front of its WSGI app."""

    def __init__(self, guard: Guard, port: int) -> None:
        super().__init__(ip_address="127.0.0.1", port=port, verbose=False)
        self.guard = guard
        self.url = f"http://127.0.0.1:{port}"

    def _server_entry(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        app = GuardMiddleware(DomainDispatcherApplication(create_backend_app), self.guard)
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


@contextlib.contextmanager
def as_component(name: str) -> Iterator[None]:
    """Run the block with ``name``'s credentials in the environment, as its role's session gives
    them to a Lambda or a Glue job (every SDK in the process picks them up: boto3, pyarrow)."""
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    saved = {k: os.environ.get(k) for k in keys}
    os.environ.update(
        AWS_ACCESS_KEY_ID=COMPONENT_KEYS[name],
        AWS_SECRET_ACCESS_KEY=f"secret-{name}",
        AWS_SESSION_TOKEN=f"token-{name}",
    )
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ---------------------------------------------------------------------------------------------
# What AWS services do with the roles themselves
# ---------------------------------------------------------------------------------------------
def platform_calls(
    inputs: dict[str, Any], job_arguments: dict[str, str]
) -> list[tuple[str, str, Authz]]:
    """(component, what, authorisation) of the calls AWS makes with each role on its behalf,
    from the deployment's names (``render_policies.INPUTS``) and the Glue job's arguments."""
    region, prefix = inputs["region"], inputs["name_prefix"]
    logs = f"arn:aws:logs:{region}:{ACCOUNT}:log-group"
    sqs = f"arn:aws:sqs:{region}:{ACCOUNT}"
    calls: list[tuple[str, str, Authz]] = []
    for component in ("extract", "trigger"):
        function = inputs[f"{component}_function_name"]
        group = f"{logs}:/aws/lambda/{function}"
        stream = f"{group}:log-stream:2026/01/02/[$LATEST]0123456789abcdef"
        calls += [
            # Lambda writes the function's logs with its execution role (Lambda developer guide,
            # "Sending Lambda function logs to CloudWatch Logs"); the group is Terraform's.
            (component, "Lambda runtime: log stream", Authz("logs:CreateLogStream", stream)),
            (component, "Lambda runtime: log events", Authz("logs:PutLogEvents", stream)),
            # Active tracing (lambda_tracing_mode) sends segments with the execution role.
            (component, "Lambda runtime: X-Ray", Authz("xray:PutTraceSegments", "*")),
            (component, "Lambda runtime: X-Ray", Authz("xray:PutTelemetryRecords", "*")),
            # Async invocations that fail go to the dead-letter queue, sent with the
            # execution role ("Dead-letter queues", Lambda developer guide).
            (
                component,
                "Lambda runtime: dead-letter queue",
                Authz("sqs:SendMessage", f"{sqs}:{inputs[f'{component}_dlq_name']}"),
            ),
        ]
    extract = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{inputs['extract_function_name']}"
    calls += [
        # EventBridge Scheduler invokes the target and sends undeliverable events to the DLQ
        # with the schedule's execution role (Scheduler user guide, "Set up the execution role").
        (
            "scheduler",
            "Scheduler: invoke the extract Lambda",
            Authz("lambda:InvokeFunction", extract),
        ),
        (
            "scheduler",
            "Scheduler: dead-letter queue",
            Authz("sqs:SendMessage", f"{sqs}:{inputs['extract_dlq_name']}"),
        ),
    ]
    # The Glue job: Glue loads the script and every s3:// module of --additional-python-modules
    # with the job's role, and writes continuous logs and metrics with it (Glue developer guide,
    # "Setting up IAM permissions for AWS Glue", step 2).
    script = job_arguments.get("script_location", "")
    for uri in [script, *job_arguments.get("--additional-python-modules", "").split(",")]:
        if uri.startswith("s3://"):
            bucket, _, key = uri[5:].partition("/")
            calls.append(
                ("glue", f"Glue: load {uri}", Authz("s3:GetObject", s3_object_arn(bucket, key)))
            )
    group = f"{logs}:/aws-glue/jobs/logs-v2"
    calls += [
        ("glue", "Glue: continuous logging", Authz("logs:CreateLogGroup", group)),
        (
            "glue",
            "Glue: continuous logging",
            Authz("logs:CreateLogStream", f"{group}:log-stream:jr_0"),
        ),
        (
            "glue",
            "Glue: continuous logging",
            Authz("logs:PutLogEvents", f"{group}:log-stream:jr_0"),
        ),
        (
            "glue",
            "Glue: job metrics",
            Authz("cloudwatch:PutMetricData", "*", (("cloudwatch:namespace", "Glue"),)),
        ),
    ]
    del prefix
    return calls
