"""Byte-level upstream evidence for a few key machine messages.

These base64 strings are serialized ``google.protobuf.DescriptorProto``s of the newest
upstream ``machine/machine.proto``, as embedded by a client generated from it
(machine.pbjson.dart). They are upstream data, not our transcription, so they also guard the
hand-written tables against typos for the messages that matter most to operators.
"""

from __future__ import annotations

import base64

import pytest
from google.protobuf import descriptor_pb2

import talos.api.machine.machine_pb2 as machine_pb2

UPSTREAM = {
    "ApplyConfigurationRequest": (
        "ChlBcHBseUNvbmZpZ3VyYXRpb25SZXF1ZXN0EhIKBGRhdGEYASABKAxSBGRhdGESOwoEbW9kZR"
        "gEIAEoDjInLm1hY2hpbmUuQXBwbHlDb25maWd1cmF0aW9uUmVxdWVzdC5Nb2RlUgRtb2RlEhcK"
        "B2RyeV9ydW4YBSABKAhSBmRyeVJ1bhJDChB0cnlfbW9kZV90aW1lb3V0GAYgASgLMhkuZ29vZ2"
        "xlLnByb3RvYnVmLkR1cmF0aW9uUg50cnlNb2RlVGltZW91dCJACgRNb2RlEgoKBlJFQk9PVBAA"
        "EggKBEFVVE8QARINCglOT19SRUJPT1QQAhIKCgZTVEFHRUQQAxIHCgNUUlkQBA=="),
    "ApplyConfiguration": (
        "ChJBcHBseUNvbmZpZ3VyYXRpb24SLAoIbWV0YWRhdGEYASABKAsyEC5jb21tb24uTWV0YWRhdG"
        "FSCG1ldGFkYXRhEhoKCHdhcm5pbmdzGAIgAygJUgh3YXJuaW5ncxI7CgRtb2RlGAMgASgOMicu"
        "bWFjaGluZS5BcHBseUNvbmZpZ3VyYXRpb25SZXF1ZXN0Lk1vZGVSBG1vZGUSIQoMbW9kZV9kZX"
        "RhaWxzGAQgASgJUgttb2RlRGV0YWlscw=="),
    "ServiceStateEvent": (
        "ChFTZXJ2aWNlU3RhdGVFdmVudBIYCgdzZXJ2aWNlGAEgASgJUgdzZXJ2aWNlEjkKBmFjdGlvbh"
        "gCIAEoDjIhLm1hY2hpbmUuU2VydmljZVN0YXRlRXZlbnQuQWN0aW9uUgZhY3Rpb24SGAoHbWVz"
        "c2FnZRgDIAEoCVIHbWVzc2FnZRIuCgZoZWFsdGgYBCABKAsyFi5tYWNoaW5lLlNlcnZpY2VIZW"
        "FsdGhSBmhlYWx0aCKFAQoGQWN0aW9uEg8KC0lOSVRJQUxJWkVEEAASDQoJUFJFUEFSSU5HEAES"
        "CwoHV0FJVElORxACEgsKB1JVTk5JTkcQAxIMCghTVE9QUElORxAEEgwKCEZJTklTSEVEEAUSCg"
        "oGRkFJTEVEEAYSCwoHU0tJUFBFRBAHEgwKCFNUQVJUSU5HEAg="),
    "ResetRequest": (
        "CgxSZXNldFJlcXVlc3QSGgoIZ3JhY2VmdWwYASABKAhSCGdyYWNlZnVsEhYKBnJlYm9vdBgCIA"
        "EoCFIGcmVib290ElYKGXN5c3RlbV9wYXJ0aXRpb25zX3RvX3dpcGUYAyADKAsyGy5tYWNoaW5l"
        "LlJlc2V0UGFydGl0aW9uU3BlY1IWc3lzdGVtUGFydGl0aW9uc1RvV2lwZRIrChJ1c2VyX2Rpc2"
        "tzX3RvX3dpcGUYBCADKAlSD3VzZXJEaXNrc1RvV2lwZRIyCgRtb2RlGAUgASgOMh4ubWFjaGlu"
        "ZS5SZXNldFJlcXVlc3QuV2lwZU1vZGVSBG1vZGUiNAoIV2lwZU1vZGUSBwoDQUxMEAASDwoLU1"
        "lTVEVNX0RJU0sQARIOCgpVU0VSX0RJU0tTEAI="),
    "EventsRequest": (
        "Cg1FdmVudHNSZXF1ZXN0Eh8KC3RhaWxfZXZlbnRzGAEgASgFUgp0YWlsRXZlbnRzEhcKB3RhaW"
        "xfaWQYAiABKAlSBnRhaWxJZBIhCgx0YWlsX3NlY29uZHMYAyABKAVSC3RhaWxTZWNvbmRzEiIK"
        "DXdpdGhfYWN0b3JfaWQYBCABKAlSC3dpdGhBY3Rvcklk"),
    "Event": (
        "CgVFdmVudBIsCghtZXRhZGF0YRgBIAEoCzIQLmNvbW1vbi5NZXRhZGF0YVIIbWV0YWRhdGESKA"
        "oEZGF0YRgCIAEoCzIULmdvb2dsZS5wcm90b2J1Zi5BbnlSBGRhdGESDgoCaWQYAyABKAlSAmlk"
        "EhkKCGFjdG9yX2lkGAQgASgJUgdhY3Rvcklk"),
    "UpgradeRequest": (
        "Cg5VcGdyYWRlUmVxdWVzdBIUCgVpbWFnZRgBIAEoCVIFaW1hZ2USGgoIcHJlc2VydmUYAiABKA"
        "hSCHByZXNlcnZlEhQKBXN0YWdlGAMgASgIUgVzdGFnZRIUCgVmb3JjZRgEIAEoCFIFZm9yY2US"
        "QwoLcmVib290X21vZGUYBSABKA4yIi5tYWNoaW5lLlVwZ3JhZGVSZXF1ZXN0LlJlYm9vdE1vZG"
        "VSCnJlYm9vdE1vZGUiKQoKUmVib290TW9kZRILCgdERUZBVUxUEAASDgoKUE9XRVJDWUNMRRAB"),
    "ServiceHealth": (
        "Cg1TZXJ2aWNlSGVhbHRoEhgKB3Vua25vd24YASABKAhSB3Vua25vd24SGAoHaGVhbHRoeRgCIA"
        "EoCFIHaGVhbHRoeRIhCgxsYXN0X21lc3NhZ2UYAyABKAlSC2xhc3RNZXNzYWdlEjsKC2xhc3Rf"
        "Y2hhbmdlGAQgASgLMhouZ29vZ2xlLnByb3RvYnVmLlRpbWVzdGFtcFIKbGFzdENoYW5nZQ=="),
    "ListRequest": (
        "CgtMaXN0UmVxdWVzdBISCgRyb290GAEgASgJUgRyb290EhgKB3JlY3Vyc2UYAiABKAhSB3JlY3"
        "Vyc2USJwoPcmVjdXJzaW9uX2RlcHRoGAMgASgFUg5yZWN1cnNpb25EZXB0aBIvCgV0eXBlcxgE"
        "IAMoDjIZLm1hY2hpbmUuTGlzdFJlcXVlc3QuVHlwZVIFdHlwZXMSIwoNcmVwb3J0X3hhdHRycx"
        "gFIAEoCFIMcmVwb3J0WGF0dHJzIi8KBFR5cGUSCwoHUkVHVUxBUhAAEg0KCURJUkVDVE9SWRAB"
        "EgsKB1NZTUxJTksQAg=="),
    "EtcdMemberStatus": (
        "ChBFdGNkTWVtYmVyU3RhdHVzEicKD3N0b3JhZ2VfdmVyc2lvbhgLIAEoCVIOc3RvcmFnZVZlcn"
        "Npb24SGwoJbWVtYmVyX2lkGAogASgEUghtZW1iZXJJZBIpChBwcm90b2NvbF92ZXJzaW9uGAEg"
        "ASgJUg9wcm90b2NvbFZlcnNpb24SFwoHZGJfc2l6ZRgCIAEoA1IGZGJTaXplEiMKDmRiX3Npem"
        "VfaW5fdXNlGAMgASgDUgtkYlNpemVJblVzZRIWCgZsZWFkZXIYBCABKARSBmxlYWRlchIdCgpy"
        "YWZ0X2luZGV4GAUgASgEUglyYWZ0SW5kZXgSGwoJcmFmdF90ZXJtGAYgASgEUghyYWZ0VGVybR"
        "IsChJyYWZ0X2FwcGxpZWRfaW5kZXgYByABKARSEHJhZnRBcHBsaWVkSW5kZXgSFgoGZXJyb3Jz"
        "GAggAygJUgZlcnJvcnMSHQoKaXNfbGVhcm5lchgJIAEoCFIJaXNMZWFybmVy"),
    "ContainerInfo": (
        "Cg1Db250YWluZXJJbmZvEhwKCW5hbWVzcGFjZRgBIAEoCVIJbmFtZXNwYWNlEg4KAmlkGAIgAS"
        "gJUgJpZBIQCgN1aWQYCiABKAlSA3VpZBIfCgtpbnRlcm5hbF9pZBgJIAEoCVIKaW50ZXJuYWxJ"
        "ZBIUCgVpbWFnZRgDIAEoCVIFaW1hZ2USEAoDcGlkGAQgASgNUgNwaWQSFgoGc3RhdHVzGAUgAS"
        "gJUgZzdGF0dXMSFQoGcG9kX2lkGAYgASgJUgVwb2RJZBISCgRuYW1lGAcgASgJUgRuYW1lEisK"
        "EW5ldHdvcmtfbmFtZXNwYWNlGAggASgJUhBuZXR3b3JrTmFtZXNwYWNl"),
}


def _normalized(proto: descriptor_pb2.DescriptorProto) -> descriptor_pb2.DescriptorProto:
    """Drop json_name (protoc fills it for plugins, not for runtime descriptors)."""
    out = descriptor_pb2.DescriptorProto()
    out.CopyFrom(proto)
    for f in out.field:
        f.ClearField("json_name")
    for nested in out.nested_type:
        nested.CopyFrom(_normalized(nested))
    return out


@pytest.mark.parametrize("name", sorted(UPSTREAM))
def test_descriptor_equals_upstream(name: str) -> None:
    upstream = descriptor_pb2.DescriptorProto.FromString(base64.b64decode(UPSTREAM[name]))
    ours = descriptor_pb2.DescriptorProto()
    getattr(machine_pb2, name).DESCRIPTOR.CopyToProto(ours)
    assert _normalized(ours) == _normalized(upstream), f"{name}:\nours {ours}\nupstream {upstream}"
