#!/usr/bin/env python3
"""Compare our proto/ with an upstream checkout, message by message and field by field.

Compiles both trees with the pinned grpcio-tools into descriptor sets and reports, for every
message, enum and service that *we* define, each difference from the upstream definition of
the same fully qualified name: a field missing or extra, another number, name, type, label,
message/enum type or oneof; enum values; RPC methods and their types and streaming. Types we
do not define are not reported (we implement a subset).

Upstream sources are not part of this repository; fetch them and point this script at them,
e.g. for the release named in proto/README.md:

    git -C talos archive v1.13.9 api | tar -x -C /tmp/up
    git -C specification archive HEAD proto | tar -x -C /tmp/up/cosi
    git -C discovery-api archive HEAD api | tar -x -C /tmp/up/disc
    # discovery-api imports its vendored "vendor/google/duration.proto": point it at the
    # well-known one (sed -i 's#vendor/google/duration#google/protobuf/duration#') and
    # delete /tmp/up/disc/api/vendor
    python scripts/compare_upstream_protos.py --upstream /tmp/up/api \
        --upstream /tmp/up/cosi/proto --upstream /tmp/up/disc/api

Exit status 1 when there is any difference.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from google.protobuf import descriptor_pb2

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"

#: differences we keep on purpose, each with its reason (proto/README.md lists them too)
DELIBERATE = {
    "service machine.MachineService method EtcdRemoveMember":
        "removed upstream in v1.7; kept so `talosctl etcd remove-member HOSTNAME` works",
}

_FDP = descriptor_pb2.FieldDescriptorProto
_TYPE = {v: k[len("TYPE_"):].lower() for k, v in _FDP.Type.items()}
_LABEL = {v: k[len("LABEL_"):].lower() for k, v in _FDP.Label.items()}


def _well_known_includes() -> list[str]:
    import google.rpc.status_pb2 as status_pb2
    import grpc_tools

    return [str(Path(grpc_tools.__file__).parent / "_proto"),
            str(Path(status_pb2.__file__).parent.parent.parent)]


def compile_tree(roots: list[Path], files: list[Path]) -> descriptor_pb2.FileDescriptorSet:
    from grpc_tools import protoc

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.pb"
        args = ["protoc", *(f"-I{r}" for r in roots), *(f"-I{i}" for i in _well_known_includes()),
                "--include_imports", f"--descriptor_set_out={out}", *map(str, files)]
        if protoc.main(args) != 0:
            raise SystemExit(f"protoc failed on {roots[0]}")
        fds = descriptor_pb2.FileDescriptorSet()
        fds.ParseFromString(out.read_bytes())
        return fds


def _walk_messages(prefix: str, msgs: list[descriptor_pb2.DescriptorProto]
                   ) -> Iterator[tuple[str, descriptor_pb2.DescriptorProto]]:
    for m in msgs:
        name = f"{prefix}.{m.name}" if prefix else m.name
        yield name, m
        yield from _walk_messages(name, list(m.nested_type))


def _walk_enums(prefix: str, msgs: list[descriptor_pb2.DescriptorProto],
                enums: list[descriptor_pb2.EnumDescriptorProto]
                ) -> Iterator[tuple[str, descriptor_pb2.EnumDescriptorProto]]:
    for e in enums:
        yield (f"{prefix}.{e.name}" if prefix else e.name), e
    for m in msgs:
        name = f"{prefix}.{m.name}" if prefix else m.name
        yield from _walk_enums(name, list(m.nested_type), list(m.enum_type))


class Index:
    def __init__(self, fds: descriptor_pb2.FileDescriptorSet, only: set[str] | None = None):
        self.messages: dict[str, descriptor_pb2.DescriptorProto] = {}
        self.enums: dict[str, descriptor_pb2.EnumDescriptorProto] = {}
        self.services: dict[str, descriptor_pb2.ServiceDescriptorProto] = {}
        self.origin: dict[str, str] = {}
        self.add(fds, only)

    def add(self, fds: descriptor_pb2.FileDescriptorSet, only: set[str] | None = None) -> None:
        for f in fds.file:
            if only is not None and f.name not in only:
                continue
            for name, m in _walk_messages(f.package, list(f.message_type)):
                self.messages[name] = m
                self.origin[name] = f.name
            for name, e in _walk_enums(f.package, list(f.message_type), list(f.enum_type)):
                self.enums[name] = e
                self.origin[name] = f.name
            for s in f.service:
                name = f"{f.package}.{s.name}"
                self.services[name] = s
                self.origin[name] = f.name


def _describe_field(m: descriptor_pb2.DescriptorProto, f: descriptor_pb2.FieldDescriptorProto
                    ) -> str:
    kind = _TYPE[f.type]
    if f.type_name:
        kind = f.type_name.lstrip(".")
    label = _LABEL[f.label]
    oneof = ""
    if f.HasField("oneof_index"):
        oneof = f" oneof={m.oneof_decl[f.oneof_index].name}"
        if f.proto3_optional:
            oneof = " optional"
    return f"{label} {kind} {f.name}{oneof}"


def compare(ours: Index, theirs: Index) -> list[str]:
    problems: list[str] = []
    for name, m in sorted(ours.messages.items()):
        up = theirs.messages.get(name)
        if up is None:
            problems.append(f"message {name} ({ours.origin[name]}): not upstream")
            continue
        a = {f.number: _describe_field(m, f) for f in m.field}
        b = {f.number: _describe_field(up, f) for f in up.field}
        for num in sorted(a.keys() | b.keys()):
            if a.get(num) != b.get(num):
                problems.append(f"message {name} field {num}: ours {a.get(num, '-')!s} | "
                                f"upstream {b.get(num, '-')!s}")
        if list(m.reserved_range) and not list(up.reserved_range):
            problems.append(f"message {name}: reserved ranges differ")
    for name, e in sorted(ours.enums.items()):
        upe = theirs.enums.get(name)
        if upe is None:
            problems.append(f"enum {name} ({ours.origin[name]}): not upstream")
            continue
        a2 = {v.name: v.number for v in e.value}
        b2 = {v.name: v.number for v in upe.value}
        if a2 != b2:
            missing = {k: v for k, v in b2.items() if a2.get(k) != v}
            extra = {k: v for k, v in a2.items() if b2.get(k) != v}
            problems.append(f"enum {name}: ours has {extra}, upstream has {missing}")
    for name, s in sorted(ours.services.items()):
        ups = theirs.services.get(name)
        if ups is None:
            problems.append(f"service {name}: not upstream")
            continue
        a3 = {x.name: (x.input_type, x.output_type, x.client_streaming, x.server_streaming)
              for x in s.method}
        b3 = {x.name: (x.input_type, x.output_type, x.client_streaming, x.server_streaming)
              for x in ups.method}
        for meth in sorted(a3.keys() | b3.keys()):
            if a3.get(meth) != b3.get(meth):
                problems.append(f"service {name} method {meth}: ours {a3.get(meth, '-')} | "
                                f"upstream {b3.get(meth, '-')}")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--upstream", action="append", type=Path, required=True,
                    help="an upstream include root (repeatable)")
    ap.add_argument("--skip", action="append", default=["containerd/", "etcdserverpb/",
                                                        "mvccpb/"],
                    help="path prefixes of ours not to compare (other upstreams)")
    args = ap.parse_args()

    our_files = sorted(p.relative_to(PROTO_DIR) for p in PROTO_DIR.rglob("*.proto"))
    compared = [p for p in our_files if not any(str(p).startswith(s) for s in args.skip)]
    ours = Index(compile_tree([PROTO_DIR], [PROTO_DIR / p for p in compared]),
                 {str(p) for p in compared})
    theirs = Index(descriptor_pb2.FileDescriptorSet())
    for root in args.upstream:  # one by one: each upstream vendors its own copies
        files = [p for p in root.rglob("*.proto") if "vendor" not in p.relative_to(root).parts]
        vendor = [root / "vendor"] if (root / "vendor").is_dir() else []
        theirs.add(compile_tree([root, *vendor], files))
    problems = []
    for p in compare(ours, theirs):
        reason = next((r for k, r in DELIBERATE.items() if p.startswith(k + ":")), None)
        if reason is None:
            problems.append(p)
            print(p)
        else:
            print(f"deliberate: {p} ({reason})", file=sys.stderr)
    print(f"{len(problems)} difference(s) in {len(compared)} file(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
