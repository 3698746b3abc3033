#!/usr/bin/python3
"""An independent liveops.v1 client in Python (Debian's python3-grpcio), used by the test suite
to show that the API is plain gRPC: it checks health, lists regions and reads telemetry.

usage: liveops_probe.py --target HOST:PORT --token TOKEN --proto-root DIR [--proto-root DIR] [--samples N]
Prints one JSON object; exits 0 when every call succeeded.
"""
import argparse
import json
import subprocess
import sys
import tempfile


def generate(proto_roots, out_dir):
    """Generates the message classes with protoc; the stubs are plain method paths below."""
    includes = []
    for root in proto_roots + ["/usr/include"]:
        includes += ["-I", root]
    subprocess.run(["protoc"] + includes + ["--python_out", out_dir,
                    "liveops/v1/liveops.proto", "grpc/health/v1/health.proto"], check=True)
    sys.path.insert(0, out_dir)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--proto-root", required=True, action="append",
                        help="a folder holding liveops/v1 or grpc/health/v1 .proto files (repeat)")
    parser.add_argument("--samples", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as out_dir:
        generate(args.proto_root, out_dir)
        import importlib.util
        import grpc
        from liveops.v1 import liveops_pb2  # noqa: E402 (generated above)
        # grpc/health/v1 would shadow the grpc package itself: load that module by its path.
        spec = importlib.util.spec_from_file_location(
            "health_pb2", out_dir + "/grpc/health/v1/health_pb2.py")
        health_pb2 = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(health_pb2)

        channel = grpc.insecure_channel(args.target)
        metadata = (("authorization", "Bearer " + args.token),)

        check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                    request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
                                    response_deserializer=health_pb2.HealthCheckResponse.FromString)
        health = check(health_pb2.HealthCheckRequest(service=""), timeout=10)

        list_regions = channel.unary_unary("/liveops.v1.LiveOps/ListRegions",
                                           request_serializer=liveops_pb2.ListRegionsRequest.SerializeToString,
                                           response_deserializer=liveops_pb2.ListRegionsResponse.FromString)
        regions = list_regions(liveops_pb2.ListRegionsRequest(), metadata=metadata, timeout=10)

        watch = channel.unary_stream("/liveops.v1.LiveOps/WatchTelemetry",
                                     request_serializer=liveops_pb2.WatchTelemetryRequest.SerializeToString,
                                     response_deserializer=liveops_pb2.TelemetrySample.FromString)
        samples = []
        stream = watch(liveops_pb2.WatchTelemetryRequest(), metadata=metadata, timeout=30)
        for sample in stream:
            samples.append({"sequence": sample.sequence, "region": sample.region, "players": sample.players,
                            "rtt_p50_ms": sample.rtt_p50_ms, "bandwidth_out_kbps": sample.bandwidth_out_kbps})
            if len(samples) >= args.samples:
                stream.cancel()
                break

        try:
            list_regions(liveops_pb2.ListRegionsRequest(), timeout=10)
            unauthenticated = False
        except grpc.RpcError as error:
            unauthenticated = error.code() == grpc.StatusCode.UNAUTHENTICATED

        print(json.dumps({
            "health": health_pb2.HealthCheckResponse.ServingStatus.Name(health.status),
            "regions": [{"name": r.name, "endpoint": r.endpoint, "players": r.players,
                         "status": liveops_pb2.RegionStatus.Name(r.status)} for r in regions.regions],
            "samples": samples,
            "no_token_is_unauthenticated": unauthenticated,
        }))


if __name__ == "__main__":
    main()
