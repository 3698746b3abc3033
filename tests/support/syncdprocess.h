#pragma once

// syncd as a child process for tests: a state folder (tokens, cluster key, config) and a handle
// that starts syncd on 127.0.0.1 port 0 and connects a stub.
#include "liveops/v1/liveops.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <random>

namespace lv::test {

namespace pb = ::liveops::v1;

inline QString randomKeyHex()
{
    std::random_device random;
    QString hex;
    for (int i = 0; i < 32; ++i)
        hex += QStringLiteral("%1").arg(random() & 0xff, 2, 16, QLatin1Char('0'));
    return hex;
}

inline const char* const kAdmin = "admin-token-0123456789";

class Syncd {
public:
    explicit Syncd(const QString& dir) : m_dir(dir) {}
    ~Syncd()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }

    /// Starts syncd with the folder's config (or `arguments` instead), waits until it serves.
    bool start(QStringList arguments = {})
    {
        QFile::remove(m_dir + QStringLiteral("/port"));
        m_process.setProcessChannelMode(QProcess::SeparateChannels);
        if (arguments.isEmpty())
            arguments = {QStringLiteral("--config"), m_dir + QStringLiteral("/syncd.toml")};
        m_process.start(QStringLiteral(SYNCD_PATH), arguments + QStringList{QStringLiteral("--print-port"), m_dir + QStringLiteral("/port")});
        if (!m_process.waitForStarted(5000))
            return false;
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < 15000) {
            QFile file(m_dir + QStringLiteral("/port"));
            if (file.open(QIODevice::ReadOnly) && file.size() > 0) {
                m_port = file.readAll().trimmed().toInt();
                m_channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(m_port), grpc::InsecureChannelCredentials());
                stub = pb::LiveOps::NewStub(m_channel);
                return true;
            }
            if (m_process.state() == QProcess::NotRunning)
                return false;
            m_process.waitForReadyRead(50);
        }
        return false;
    }

    QProcess& process() { return m_process; }
    std::shared_ptr<grpc::Channel> channel() const { return m_channel; }
    int port() const { return m_port; }
    QString log()
    {
        m_log += QString::fromUtf8(m_process.readAllStandardError());
        return m_log;
    }

    static std::unique_ptr<grpc::ClientContext> context(const std::string& token = kAdmin)
    {
        auto ctx = std::make_unique<grpc::ClientContext>();
        ctx->AddMetadata("authorization", "Bearer " + token);
        ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        return ctx;
    }

    std::vector<pb::Region> regions(const std::string& token = kAdmin)
    {
        pb::ListRegionsResponse response;
        stub->ListRegions(context(token).get(), {}, &response);
        return {response.regions().begin(), response.regions().end()};
    }

    std::unique_ptr<pb::LiveOps::Stub> stub;

private:
    QString m_dir;
    QProcess m_process;
    int m_port = 0;
    std::shared_ptr<grpc::Channel> m_channel;
    QString m_log;
};

struct State {
    QTemporaryDir dir;
    explicit State(const QString& extra = {}, const QString& metrics = {})
    {
        write(QStringLiteral("tokens.txt"), QStringLiteral("# test tokens\n%1 alice admin\nviewer-token-0123456789 victor viewer\n").arg(QLatin1String(kAdmin)));
        write(QStringLiteral("cluster.key"), randomKeyHex());
        write(QStringLiteral("syncd.toml"), QStringLiteral("[syncd]\n"
                                                            "grpc_address = \"127.0.0.1:0\"\n"
                                                            "metrics_address = \"%1\"\n"
                                                            "token_file = \"tokens.txt\"\n"
                                                            "token_key_file = \"cluster.key\"\n"
                                                            "telemetry_interval_ms = 200\n"
                                                            "drain_timeout_s = 2\n"
                                                            "\n"
                                                            "[[region]]\nname = \"eu-west\"\n\n[[region]]\nname = \"us-east\"\n%2")
                                                 .arg(metrics, extra));
    }
    void write(const QString& name, const QString& text)
    {
        QFile file(dir.filePath(name));
        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(text.toUtf8());
    }
    QString path() const { return dir.path(); }
};

} // namespace lv::test
