// Server reflection, as grpcurl and other generic tools use it, against syncd as a process.
// Its own executable: libgrpc++_reflection (linked into the service libraries) registers the same
// reflection messages this client is generated from, so the two cannot share a binary.
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "syncdprocess.h"

#include <google/protobuf/descriptor.pb.h>

#include <set>

using namespace lv::test;

class TestReflection : public QObject {
    Q_OBJECT
private slots:
    void reflectionDescribesTheApi()
    {
        // What grpcurl and other generic tools do: list services, then fetch a service's file.
        State state;
        Syncd syncd(state.path());
        QVERIFY2(syncd.start(), qPrintable(syncd.log()));
        namespace rf = grpc::reflection::v1alpha;
        auto stub = rf::ServerReflection::NewStub(syncd.channel());
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        auto* ctx = &context;
        auto stream = stub->ServerReflectionInfo(ctx);
        rf::ServerReflectionRequest list;
        list.set_list_services("");
        QVERIFY(stream->Write(list));
        rf::ServerReflectionResponse response;
        QVERIFY(stream->Read(&response));
        std::set<std::string> services;
        for (const auto& s : response.list_services_response().service())
            services.insert(s.name());
        QVERIFY(services.count("liveops.v1.LiveOps"));
        QVERIFY(services.count("grpc.health.v1.Health"));
        rf::ServerReflectionRequest file;
        file.set_file_containing_symbol("liveops.v1.LiveOps");
        QVERIFY(stream->Write(file));
        QVERIFY(stream->Read(&response));
        QVERIFY(response.file_descriptor_response().file_descriptor_proto_size() >= 1);
        google::protobuf::FileDescriptorProto descriptor;
        QVERIFY(descriptor.ParseFromString(response.file_descriptor_response().file_descriptor_proto(0)));
        QCOMPARE(descriptor.package(), std::string("liveops.v1"));
        std::set<std::string> methods;
        for (const auto& m : descriptor.service(0).method())
            methods.insert(m.name());
        QVERIFY(methods.count("SetToggle") && methods.count("WatchTelemetry") && methods.count("StartDrill"));
        stream->WritesDone();
        QVERIFY(stream->Finish().ok());
    }

};

QTEST_GUILESS_MAIN(TestReflection)
#include "tst_reflection.moc"
