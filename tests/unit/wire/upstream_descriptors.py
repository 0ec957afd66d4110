"""Serialized upstream descriptors for common, cluster, inspect, storage, time, securityapi.

Each value is a base64 ``google.protobuf.DescriptorProto`` (message),
``EnumDescriptorProto`` (top-level enum) or ``ServiceDescriptorProto`` (service) of the newest
upstream siderolabs/talos ``api/<pkg>/<pkg>.proto``, as embedded by a Dart client generated
from those files (``<pkg>.pbjson.dart``). They are upstream data, not our transcription: the
tests check the hand-written golden tables against them, so a typo in a table fails too.
"""

from __future__ import annotations

MESSAGES: dict[str, str] = {
    # common/common.proto
    "common.Error": (
        "CgVFcnJvchIgCgRjb2RlGAEgASgOMgwuY29tbW9uLkNvZGVSBGNvZGUSGAoHbWVzc2FnZRgCIA"
        "EoCVIHbWVzc2FnZRIuCgdkZXRhaWxzGAMgAygLMhQuZ29vZ2xlLnByb3RvYnVmLkFueVIHZGV0"
        "YWlscw=="),
    "common.Metadata": (
        "CghNZXRhZGF0YRIaCghob3N0bmFtZRgBIAEoCVIIaG9zdG5hbWUSFAoFZXJyb3IYAiABKAlSBW"
        "Vycm9yEioKBnN0YXR1cxgDIAEoCzISLmdvb2dsZS5ycGMuU3RhdHVzUgZzdGF0dXM="),
    "common.Data": (
        "CgREYXRhEiwKCG1ldGFkYXRhGAEgASgLMhAuY29tbW9uLk1ldGFkYXRhUghtZXRhZGF0YRIUCg"
        "VieXRlcxgCIAEoDFIFYnl0ZXM="),
    "common.DataResponse": (
        "CgxEYXRhUmVzcG9uc2USKAoIbWVzc2FnZXMYASADKAsyDC5jb21tb24uRGF0YVIIbWVzc2FnZX"
        "M="),
    "common.Empty": (
        "CgVFbXB0eRIsCghtZXRhZGF0YRgBIAEoCzIQLmNvbW1vbi5NZXRhZGF0YVIIbWV0YWRhdGE="),
    "common.EmptyResponse": (
        "Cg1FbXB0eVJlc3BvbnNlEikKCG1lc3NhZ2VzGAEgAygLMg0uY29tbW9uLkVtcHR5UghtZXNzYW"
        "dlcw=="),
    "common.URL": "CgNVUkwSGwoJZnVsbF9wYXRoGAEgASgJUghmdWxsUGF0aA==",
    "common.PEMEncodedCertificateAndKey": (
        "ChtQRU1FbmNvZGVkQ2VydGlmaWNhdGVBbmRLZXkSEAoDY3J0GAEgASgMUgNjcnQSEAoDa2V5GA"
        "IgASgMUgNrZXk="),
    "common.PEMEncodedKey": "Cg1QRU1FbmNvZGVkS2V5EhAKA2tleRgBIAEoDFIDa2V5",
    "common.PEMEncodedCertificate": "ChVQRU1FbmNvZGVkQ2VydGlmaWNhdGUSEAoDY3J0GAEgASgMUgNjcnQ=",
    "common.NetIP": "CgVOZXRJUBIOCgJpcBgBIAEoDFICaXA=",
    "common.NetIPPort": "CglOZXRJUFBvcnQSDgoCaXAYASABKAxSAmlwEhIKBHBvcnQYAiABKAVSBHBvcnQ=",
    "common.NetIPPrefix": (
        "CgtOZXRJUFByZWZpeBIOCgJpcBgBIAEoDFICaXASIwoNcHJlZml4X2xlbmd0aBgCIAEoBVIMcH"
        "JlZml4TGVuZ3Ro"),
    # cluster/cluster.proto
    "cluster.HealthCheckRequest": (
        "ChJIZWFsdGhDaGVja1JlcXVlc3QSPAoMd2FpdF90aW1lb3V0GAEgASgLMhkuZ29vZ2xlLnByb3"
        "RvYnVmLkR1cmF0aW9uUgt3YWl0VGltZW91dBI3CgxjbHVzdGVyX2luZm8YAiABKAsyFC5jbHVz"
        "dGVyLkNsdXN0ZXJJbmZvUgtjbHVzdGVySW5mbw=="),
    "cluster.ClusterInfo": (
        "CgtDbHVzdGVySW5mbxIuChNjb250cm9sX3BsYW5lX25vZGVzGAEgAygJUhFjb250cm9sUGxhbm"
        "VOb2RlcxIhCgx3b3JrZXJfbm9kZXMYAiADKAlSC3dvcmtlck5vZGVzEiUKDmZvcmNlX2VuZHBv"
        "aW50GAMgASgJUg1mb3JjZUVuZHBvaW50"),
    "cluster.HealthCheckProgress": (
        "ChNIZWFsdGhDaGVja1Byb2dyZXNzEiwKCG1ldGFkYXRhGAEgASgLMhAuY29tbW9uLk1ldGFkYX"
        "RhUghtZXRhZGF0YRIYCgdtZXNzYWdlGAIgASgJUgdtZXNzYWdl"),
    # inspect/inspect.proto
    "inspect.ControllerRuntimeDependency": (
        "ChtDb250cm9sbGVyUnVudGltZURlcGVuZGVuY3kSLAoIbWV0YWRhdGEYASABKAsyEC5jb21tb2"
        "4uTWV0YWRhdGFSCG1ldGFkYXRhEjcKBWVkZ2VzGAIgAygLMiEuaW5zcGVjdC5Db250cm9sbGVy"
        "RGVwZW5kZW5jeUVkZ2VSBWVkZ2Vz"),
    "inspect.ControllerRuntimeDependenciesResponse": (
        "CiVDb250cm9sbGVyUnVudGltZURlcGVuZGVuY2llc1Jlc3BvbnNlEkAKCG1lc3NhZ2VzGAEgAy"
        "gLMiQuaW5zcGVjdC5Db250cm9sbGVyUnVudGltZURlcGVuZGVuY3lSCG1lc3NhZ2Vz"),
    "inspect.ControllerDependencyEdge": (
        "ChhDb250cm9sbGVyRGVwZW5kZW5jeUVkZ2USJwoPY29udHJvbGxlcl9uYW1lGAEgASgJUg5jb2"
        "50cm9sbGVyTmFtZRI4CgllZGdlX3R5cGUYAiABKA4yGy5pbnNwZWN0LkRlcGVuZGVuY3lFZGdl"
        "VHlwZVIIZWRnZVR5cGUSLQoScmVzb3VyY2VfbmFtZXNwYWNlGAMgASgJUhFyZXNvdXJjZU5hbW"
        "VzcGFjZRIjCg1yZXNvdXJjZV90eXBlGAQgASgJUgxyZXNvdXJjZVR5cGUSHwoLcmVzb3VyY2Vf"
        "aWQYBSABKAlSCnJlc291cmNlSWQ="),
    # storage/storage.proto
    "storage.Disk": (
        "CgREaXNrEhIKBHNpemUYASABKARSBHNpemUSFAoFbW9kZWwYAiABKAlSBW1vZGVsEh8KC2Rldm"
        "ljZV9uYW1lGAMgASgJUgpkZXZpY2VOYW1lEhIKBG5hbWUYBCABKAlSBG5hbWUSFgoGc2VyaWFs"
        "GAUgASgJUgZzZXJpYWwSGgoIbW9kYWxpYXMYBiABKAlSCG1vZGFsaWFzEhIKBHV1aWQYByABKA"
        "lSBHV1aWQSEgoEd3dpZBgIIAEoCVIEd3dpZBIqCgR0eXBlGAkgASgOMhYuc3RvcmFnZS5EaXNr"
        "LkRpc2tUeXBlUgR0eXBlEhkKCGJ1c19wYXRoGAogASgJUgdidXNQYXRoEh8KC3N5c3RlbV9kaX"
        "NrGAsgASgIUgpzeXN0ZW1EaXNrEhwKCXN1YnN5c3RlbRgMIAEoCVIJc3Vic3lzdGVtEhoKCHJl"
        "YWRvbmx5GA0gASgIUghyZWFkb25seSJDCghEaXNrVHlwZRILCgdVTktOT1dOEAASBwoDU1NEEA"
        "ESBwoDSEREEAISCAoETlZNRRADEgYKAlNEEAQSBgoCQ0QQBQ=="),
    "storage.Disks": (
        "CgVEaXNrcxIsCghtZXRhZGF0YRgBIAEoCzIQLmNvbW1vbi5NZXRhZGF0YVIIbWV0YWRhdGESIw"
        "oFZGlza3MYAiADKAsyDS5zdG9yYWdlLkRpc2tSBWRpc2tz"),
    "storage.DisksResponse": (
        "Cg1EaXNrc1Jlc3BvbnNlEioKCG1lc3NhZ2VzGAEgAygLMg4uc3RvcmFnZS5EaXNrc1IIbWVzc2"
        "FnZXM="),
    "storage.BlockDeviceWipeRequest": (
        "ChZCbG9ja0RldmljZVdpcGVSZXF1ZXN0EjwKB2RldmljZXMYASADKAsyIi5zdG9yYWdlLkJsb2"
        "NrRGV2aWNlV2lwZURlc2NyaXB0b3JSB2RldmljZXM="),
    "storage.BlockDeviceWipeDescriptor": (
        "ChlCbG9ja0RldmljZVdpcGVEZXNjcmlwdG9yEhYKBmRldmljZRgBIAEoCVIGZGV2aWNlEkEKBm"
        "1ldGhvZBgCIAEoDjIpLnN0b3JhZ2UuQmxvY2tEZXZpY2VXaXBlRGVzY3JpcHRvci5NZXRob2RS"
        "Bm1ldGhvZBIqChFza2lwX3ZvbHVtZV9jaGVjaxgDIAEoCFIPc2tpcFZvbHVtZUNoZWNrEjAKFH"
        "NraXBfc2Vjb25kYXJ5X2NoZWNrGAUgASgIUhJza2lwU2Vjb25kYXJ5Q2hlY2sSJQoOZHJvcF9w"
        "YXJ0aXRpb24YBCABKAhSDWRyb3BQYXJ0aXRpb24iHgoGTWV0aG9kEggKBEZBU1QQABIKCgZaRV"
        "JPRVMQAQ=="),
    "storage.BlockDeviceWipeResponse": (
        "ChdCbG9ja0RldmljZVdpcGVSZXNwb25zZRI0CghtZXNzYWdlcxgBIAMoCzIYLnN0b3JhZ2UuQm"
        "xvY2tEZXZpY2VXaXBlUghtZXNzYWdlcw=="),
    "storage.BlockDeviceWipe": (
        "Cg9CbG9ja0RldmljZVdpcGUSLAoIbWV0YWRhdGEYASABKAsyEC5jb21tb24uTWV0YWRhdGFSCG"
        "1ldGFkYXRh"),
    # time/time.proto
    "time.TimeRequest": "CgtUaW1lUmVxdWVzdBIWCgZzZXJ2ZXIYASABKAlSBnNlcnZlcg==",
    "time.Time": (
        "CgRUaW1lEiwKCG1ldGFkYXRhGAEgASgLMhAuY29tbW9uLk1ldGFkYXRhUghtZXRhZGF0YRIWCg"
        "ZzZXJ2ZXIYAiABKAlSBnNlcnZlchI4Cglsb2NhbHRpbWUYAyABKAsyGi5nb29nbGUucHJvdG9i"
        "dWYuVGltZXN0YW1wUglsb2NhbHRpbWUSOgoKcmVtb3RldGltZRgEIAEoCzIaLmdvb2dsZS5wcm"
        "90b2J1Zi5UaW1lc3RhbXBSCnJlbW90ZXRpbWU="),
    "time.TimeResponse": (
        "CgxUaW1lUmVzcG9uc2USJgoIbWVzc2FnZXMYASADKAsyCi50aW1lLlRpbWVSCG1lc3NhZ2Vz"),
    # security/security.proto
    "securityapi.CertificateRequest": "ChJDZXJ0aWZpY2F0ZVJlcXVlc3QSEAoDY3NyGAEgASgMUgNjc3I=",
    "securityapi.CertificateResponse": (
        "ChNDZXJ0aWZpY2F0ZVJlc3BvbnNlEg4KAmNhGAEgASgMUgJjYRIQCgNjcnQYAiABKAxSA2NydA"
        "=="),
    # common/common.proto and machine/image.proto of v1.13.9 (protoc descriptors of the
    # upstream files themselves)
    "common.ContainerdInstance": (
        "ChJDb250YWluZXJkSW5zdGFuY2USLwoGZHJpdmVyGAEgASgOMhcuY29tbW9uLkNvbnRhaW5lck"
        "RyaXZlclIGZHJpdmVyEjkKCW5hbWVzcGFjZRgCIAEoDjIbLmNvbW1vbi5Db250YWluZXJkTmFt"
        "ZXNwYWNlUgluYW1lc3BhY2U="),
    "machine.ImageServiceListRequest": (
        "ChdJbWFnZVNlcnZpY2VMaXN0UmVxdWVzdBI6Cgpjb250YWluZXJkGAEgASgLMhouY29tbW9uLk"
        "NvbnRhaW5lcmRJbnN0YW5jZVIKY29udGFpbmVyZA=="),
    "machine.ImageServiceListResponse": (
        "ChhJbWFnZVNlcnZpY2VMaXN0UmVzcG9uc2USEgoEbmFtZRgBIAEoCVIEbmFtZRIWCgZkaWdlc3"
        "QYAiABKAlSBmRpZ2VzdBISCgRzaXplGAMgASgDUgRzaXplEjkKCmNyZWF0ZWRfYXQYBCABKAsy"
        "Gi5nb29nbGUucHJvdG9idWYuVGltZXN0YW1wUgljcmVhdGVkQXQSRQoGbGFiZWxzGAUgAygLMi"
        "0ubWFjaGluZS5JbWFnZVNlcnZpY2VMaXN0UmVzcG9uc2UuTGFiZWxzRW50cnlSBmxhYmVscxo5"
        "CgtMYWJlbHNFbnRyeRIQCgNrZXkYASABKAlSA2tleRIUCgV2YWx1ZRgCIAEoCVIFdmFsdWU6Aj"
        "gB"),
    "machine.ImageServicePullRequest": (
        "ChdJbWFnZVNlcnZpY2VQdWxsUmVxdWVzdBI6Cgpjb250YWluZXJkGAEgASgLMhouY29tbW9uLk"
        "NvbnRhaW5lcmRJbnN0YW5jZVIKY29udGFpbmVyZBIbCglpbWFnZV9yZWYYAyABKAlSCGltYWdl"
        "UmVm"),
    "machine.ImageServicePullResponse": (
        "ChhJbWFnZVNlcnZpY2VQdWxsUmVzcG9uc2USFAoEbmFtZRgBIAEoCUgAUgRuYW1lEkgKDXB1bG"
        "xfcHJvZ3Jlc3MYAiABKAsyIS5tYWNoaW5lLkltYWdlU2VydmljZVB1bGxQcm9ncmVzc0gAUgxw"
        "dWxsUHJvZ3Jlc3NCCgoIcmVzcG9uc2U="),
    "machine.ImageServiceImportRequest": (
        "ChlJbWFnZVNlcnZpY2VJbXBvcnRSZXF1ZXN0EjwKCmNvbnRhaW5lcmQYASABKAsyGi5jb21tb2"
        "4uQ29udGFpbmVyZEluc3RhbmNlSABSCmNvbnRhaW5lcmQSLwoLaW1hZ2VfY2h1bmsYAiABKAsy"
        "DC5jb21tb24uRGF0YUgAUgppbWFnZUNodW5rQgkKB3JlcXVlc3Q="),
    "machine.ImageServiceImportResponse": (
        "ChpJbWFnZVNlcnZpY2VJbXBvcnRSZXNwb25zZRISCgRuYW1lGAEgASgJUgRuYW1l"),
    "machine.ImageServicePullLayerProgress": (
        "Ch1JbWFnZVNlcnZpY2VQdWxsTGF5ZXJQcm9ncmVzcxJFCgZzdGF0dXMYASABKA4yLS5tYWNoaW"
        "5lLkltYWdlU2VydmljZVB1bGxMYXllclByb2dyZXNzLlN0YXR1c1IGc3RhdHVzEjMKB2VsYXBz"
        "ZWQYAiABKAsyGS5nb29nbGUucHJvdG9idWYuRHVyYXRpb25SB2VsYXBzZWQSFgoGb2Zmc2V0GA"
        "MgASgDUgZvZmZzZXQSFAoFdG90YWwYBCABKANSBXRvdGFsImoKBlN0YXR1cxIPCgtET1dOTE9B"
        "RElORxAAEhUKEURPV05MT0FEX0NPTVBMRVRFEAESDgoKRVhUUkFDVElORxACEhQKEEVYVFJBQ1"
        "RfQ09NUExFVEUQAxISCg5BTFJFQURZX0VYSVNUUxAE"),
    "machine.ImageServicePullProgress": (
        "ChhJbWFnZVNlcnZpY2VQdWxsUHJvZ3Jlc3MSGQoIbGF5ZXJfaWQYASABKAlSB2xheWVySWQSQg"
        "oIcHJvZ3Jlc3MYAiABKAsyJi5tYWNoaW5lLkltYWdlU2VydmljZVB1bGxMYXllclByb2dyZXNz"
        "Ughwcm9ncmVzcw=="),
    "machine.ImageServiceRemoveRequest": (
        "ChlJbWFnZVNlcnZpY2VSZW1vdmVSZXF1ZXN0EjoKCmNvbnRhaW5lcmQYASABKAsyGi5jb21tb2"
        "4uQ29udGFpbmVyZEluc3RhbmNlUgpjb250YWluZXJkEhsKCWltYWdlX3JlZhgCIAEoCVIIaW1h"
        "Z2VSZWY="),
    "machine.ImageServiceVerifyRequest": (
        "ChlJbWFnZVNlcnZpY2VWZXJpZnlSZXF1ZXN0EhsKCWltYWdlX3JlZhgBIAEoCVIIaW1hZ2VSZW"
        "YSQgoLY3JlZGVudGlhbHMYAiABKAsyIC5tYWNoaW5lLkltYWdlU2VydmljZUNyZWRlbnRpYWxz"
        "UgtjcmVkZW50aWFscw=="),
    "machine.ImageServiceCredentials": (
        "ChdJbWFnZVNlcnZpY2VDcmVkZW50aWFscxISCgRob3N0GAEgASgJUgRob3N0EhoKCHVzZXJuYW"
        "1lGAIgASgJUgh1c2VybmFtZRIaCghwYXNzd29yZBgDIAEoCVIIcGFzc3dvcmQ="),
    "machine.ImageServiceVerifyResponse": (
        "ChpJbWFnZVNlcnZpY2VWZXJpZnlSZXNwb25zZRIaCgh2ZXJpZmllZBgBIAEoCFIIdmVyaWZpZW"
        "QSGAoHbWVzc2FnZRgCIAEoCVIHbWVzc2FnZRIsChJkaWdlc3RlZF9pbWFnZV9yZWYYAyABKAlS"
        "EGRpZ2VzdGVkSW1hZ2VSZWY="),
    # machine/lifecycle.proto of v1.13.9 (protoc descriptors of the upstream file)
    "machine.InstallArtifactsSource": (
        "ChZJbnN0YWxsQXJ0aWZhY3RzU291cmNlEh0KCmltYWdlX25hbWUYASABKAlSCWltYWdlTmFtZQ"
        "=="),
    "machine.InstallDestination": (
        "ChJJbnN0YWxsRGVzdGluYXRpb24SEgoEZGlzaxgBIAEoCVIEZGlzaw=="),
    "machine.LifecycleServiceInstallRequest": (
        "Ch5MaWZlY3ljbGVTZXJ2aWNlSW5zdGFsbFJlcXVlc3QSOgoKY29udGFpbmVyZBgBIAEoCzIaLm"
        "NvbW1vbi5Db250YWluZXJkSW5zdGFuY2VSCmNvbnRhaW5lcmQSNwoGc291cmNlGAIgASgLMh8u"
        "bWFjaGluZS5JbnN0YWxsQXJ0aWZhY3RzU291cmNlUgZzb3VyY2USPQoLZGVzdGluYXRpb24YAy"
        "ABKAsyGy5tYWNoaW5lLkluc3RhbGxEZXN0aW5hdGlvblILZGVzdGluYXRpb24="),
    "machine.LifecycleServiceInstallProgress": (
        "Ch9MaWZlY3ljbGVTZXJ2aWNlSW5zdGFsbFByb2dyZXNzEhoKB21lc3NhZ2UYASABKAlIAFIHbW"
        "Vzc2FnZRIdCglleGl0X2NvZGUYAiABKAVIAFIIZXhpdENvZGVCCgoIcmVzcG9uc2U="),
    "machine.LifecycleServiceInstallResponse": (
        "Ch9MaWZlY3ljbGVTZXJ2aWNlSW5zdGFsbFJlc3BvbnNlEkQKCHByb2dyZXNzGAEgASgLMigubW"
        "FjaGluZS5MaWZlY3ljbGVTZXJ2aWNlSW5zdGFsbFByb2dyZXNzUghwcm9ncmVzcw=="),
    "machine.LifecycleServiceUpgradeRequest": (
        "Ch5MaWZlY3ljbGVTZXJ2aWNlVXBncmFkZVJlcXVlc3QSOgoKY29udGFpbmVyZBgBIAEoCzIaLm"
        "NvbW1vbi5Db250YWluZXJkSW5zdGFuY2VSCmNvbnRhaW5lcmQSNwoGc291cmNlGAIgASgLMh8u"
        "bWFjaGluZS5JbnN0YWxsQXJ0aWZhY3RzU291cmNlUgZzb3VyY2U="),
    "machine.LifecycleServiceUpgradeResponse": (
        "Ch9MaWZlY3ljbGVTZXJ2aWNlVXBncmFkZVJlc3BvbnNlEkQKCHByb2dyZXNzGAEgASgLMigubW"
        "FjaGluZS5MaWZlY3ljbGVTZXJ2aWNlSW5zdGFsbFByb2dyZXNzUghwcm9ncmVzcw=="),
    # machine/debug.proto of v1.13.9 (protoc descriptors of the upstream file)
    "machine.DebugContainerRunRequest": (
        "ChhEZWJ1Z0NvbnRhaW5lclJ1blJlcXVlc3QSOwoEc3BlYxgBIAEoCzIlLm1hY2hpbmUuRGVidWdD"
        "b250YWluZXJSdW5SZXF1ZXN0U3BlY0gAUgRzcGVjEh8KCnN0ZGluX2RhdGEYAiABKAxIAFIJc3Rk"
        "aW5EYXRhEhgKBnNpZ25hbBgDIAEoBUgAUgZzaWduYWwSSAoLdGVybV9yZXNpemUYBCABKAsyJS5t"
        "YWNoaW5lLkRlYnVnQ29udGFpbmVyVGVybWluYWxSZXNpemVIAFIKdGVybVJlc2l6ZUIJCgdyZXF1"
        "ZXN0"),
    "machine.DebugContainerRunRequestSpec": (
        "ChxEZWJ1Z0NvbnRhaW5lclJ1blJlcXVlc3RTcGVjEjoKCmNvbnRhaW5lcmQYASABKAsyGi5jb21t"
        "b24uQ29udGFpbmVyZEluc3RhbmNlUgpjb250YWluZXJkEh0KCmltYWdlX25hbWUYAiABKAlSCWlt"
        "YWdlTmFtZRISCgRhcmdzGAMgAygJUgRhcmdzEkAKA2VudhgEIAMoCzIuLm1hY2hpbmUuRGVidWdD"
        "b250YWluZXJSdW5SZXF1ZXN0U3BlYy5FbnZFbnRyeVIDZW52EkcKB3Byb2ZpbGUYBSABKA4yLS5t"
        "YWNoaW5lLkRlYnVnQ29udGFpbmVyUnVuUmVxdWVzdFNwZWMuUHJvZmlsZVIHcHJvZmlsZRIQCgN0"
        "dHkYBiABKAhSA3R0eRo2CghFbnZFbnRyeRIQCgNrZXkYASABKAlSA2tleRIUCgV2YWx1ZRgCIAEo"
        "CVIFdmFsdWU6AjgBIjoKB1Byb2ZpbGUSFwoTUFJPRklMRV9VTlNQRUNJRklFRBAAEhYKElBST0ZJ"
        "TEVfUFJJVklMRUdFRBAB"),
    "machine.DebugContainerTerminalResize": (
        "ChxEZWJ1Z0NvbnRhaW5lclRlcm1pbmFsUmVzaXplEhQKBXdpZHRoGAEgASgFUgV3aWR0aBIWCgZo"
        "ZWlnaHQYAiABKAVSBmhlaWdodA=="),
    "machine.DebugContainerRunResponse": (
        "ChlEZWJ1Z0NvbnRhaW5lclJ1blJlc3BvbnNlEiEKC3N0ZG91dF9kYXRhGAIgASgMSABSCnN0ZG91"
        "dERhdGESHQoJZXhpdF9jb2RlGAMgASgFSABSCGV4aXRDb2RlQgYKBHJlc3A="),
}

ENUMS: dict[str, str] = {
    "common.Code": "CgRDb2RlEgkKBUZBVEFMEAASCgoGTE9DS0VEEAESDAoIQ0FOQ0VMRUQQAg==",
    "common.ContainerDriver": "Cg9Db250YWluZXJEcml2ZXISDgoKQ09OVEFJTkVSRBAAEgcKA0NSSRAB",
    "common.ContainerdNamespace": (
        "ChNDb250YWluZXJkTmFtZXNwYWNlEg4KCk5TX1VOS05PV04QABINCglOU19TWVNURU0QARIKCg"
        "ZOU19DUkkQAg=="),
    "inspect.DependencyEdgeType": (
        "ChJEZXBlbmRlbmN5RWRnZVR5cGUSFAoQT1VUUFVUX0VYQ0xVU0lWRRAAEhEKDU9VVFBVVF9TSE"
        "FSRUQQAxIQCgxJTlBVVF9TVFJPTkcQARIOCgpJTlBVVF9XRUFLEAISFwoTSU5QVVRfREVTVFJP"
        "WV9SRUFEWRAE"),
}

SERVICES: dict[str, str] = {
    "inspect.InspectService": (
        "Cg5JbnNwZWN0U2VydmljZRJnCh1Db250cm9sbGVyUnVudGltZURlcGVuZGVuY2llcxIWLmdvb2"
        "dsZS5wcm90b2J1Zi5FbXB0eRouLmluc3BlY3QuQ29udHJvbGxlclJ1bnRpbWVEZXBlbmRlbmNp"
        "ZXNSZXNwb25zZQ=="),
    "cluster.ClusterService": (
        "Cg5DbHVzdGVyU2VydmljZRJKCgtIZWFsdGhDaGVjaxIbLmNsdXN0ZXIuSGVhbHRoQ2hlY2tSZX"
        "F1ZXN0GhwuY2x1c3Rlci5IZWFsdGhDaGVja1Byb2dyZXNzMAE="),
    "storage.StorageService": (
        "Cg5TdG9yYWdlU2VydmljZRI3CgVEaXNrcxIWLmdvb2dsZS5wcm90b2J1Zi5FbXB0eRoWLnN0b3"
        "JhZ2UuRGlza3NSZXNwb25zZRJUCg9CbG9ja0RldmljZVdpcGUSHy5zdG9yYWdlLkJsb2NrRGV2"
        "aWNlV2lwZVJlcXVlc3QaIC5zdG9yYWdlLkJsb2NrRGV2aWNlV2lwZVJlc3BvbnNl"),
    "time.TimeService": (
        "CgtUaW1lU2VydmljZRIyCgRUaW1lEhYuZ29vZ2xlLnByb3RvYnVmLkVtcHR5GhIudGltZS5UaW"
        "1lUmVzcG9uc2USMgoJVGltZUNoZWNrEhEudGltZS5UaW1lUmVxdWVzdBoSLnRpbWUuVGltZVJl"
        "c3BvbnNl"),
    "securityapi.SecurityService": (
        "Cg9TZWN1cml0eVNlcnZpY2USUAoLQ2VydGlmaWNhdGUSHy5zZWN1cml0eWFwaS5DZXJ0aWZpY2"
        "F0ZVJlcXVlc3QaIC5zZWN1cml0eWFwaS5DZXJ0aWZpY2F0ZVJlc3BvbnNl"),
    "machine.ImageService": (
        "CgxJbWFnZVNlcnZpY2USTQoETGlzdBIgLm1hY2hpbmUuSW1hZ2VTZXJ2aWNlTGlzdFJlcXVlc3"
        "QaIS5tYWNoaW5lLkltYWdlU2VydmljZUxpc3RSZXNwb25zZTABEk0KBFB1bGwSIC5tYWNoaW5l"
        "LkltYWdlU2VydmljZVB1bGxSZXF1ZXN0GiEubWFjaGluZS5JbWFnZVNlcnZpY2VQdWxsUmVzcG"
        "9uc2UwARJTCgZJbXBvcnQSIi5tYWNoaW5lLkltYWdlU2VydmljZUltcG9ydFJlcXVlc3QaIy5t"
        "YWNoaW5lLkltYWdlU2VydmljZUltcG9ydFJlc3BvbnNlKAESRAoGUmVtb3ZlEiIubWFjaGluZS"
        "5JbWFnZVNlcnZpY2VSZW1vdmVSZXF1ZXN0GhYuZ29vZ2xlLnByb3RvYnVmLkVtcHR5ElEKBlZl"
        "cmlmeRIiLm1hY2hpbmUuSW1hZ2VTZXJ2aWNlVmVyaWZ5UmVxdWVzdBojLm1hY2hpbmUuSW1hZ2"
        "VTZXJ2aWNlVmVyaWZ5UmVzcG9uc2U="),
    "machine.LifecycleService": (
        "ChBMaWZlY3ljbGVTZXJ2aWNlEl4KB0luc3RhbGwSJy5tYWNoaW5lLkxpZmVjeWNsZVNlcnZpY2"
        "VJbnN0YWxsUmVxdWVzdBooLm1hY2hpbmUuTGlmZWN5Y2xlU2VydmljZUluc3RhbGxSZXNwb25z"
        "ZTABEl4KB1VwZ3JhZGUSJy5tYWNoaW5lLkxpZmVjeWNsZVNlcnZpY2VVcGdyYWRlUmVxdWVzdB"
        "ooLm1hY2hpbmUuTGlmZWN5Y2xlU2VydmljZVVwZ3JhZGVSZXNwb25zZTAB"),
    # machine/debug.proto of v1.13.9
    "machine.DebugService": (
        "CgxEZWJ1Z1NlcnZpY2USWQoMQ29udGFpbmVyUnVuEiEubWFjaGluZS5EZWJ1Z0NvbnRhaW5lclJ1"
        "blJlcXVlc3QaIi5tYWNoaW5lLkRlYnVnQ29udGFpbmVyUnVuUmVzcG9uc2UoATAB"),
}
