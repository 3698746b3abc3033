// notewriter DB: the crash test's child. Opens the incident store, then saves notes to one
// incident as fast as it can; after each save returns it prints the note's id and text on stdout
// and flushes, so the parent knows exactly which saves had returned when it killed this process.
#include "incidents/store.h"

#include <QCoreApplication>
#include <QDateTime>

#include <cstdio>

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    if (argc < 2) {
        std::fprintf(stderr, "usage: notewriter DB\n");
        return 2;
    }
    auto opened = lv::incidents::Store::open(QString::fromLocal8Bit(argv[1]));
    if (!opened.store) {
        std::fprintf(stderr, "%s\n", qPrintable(opened.error));
        return 1;
    }
    auto& store = *opened.store;
    std::int64_t incident = 0;
    if (auto all = store.incidents(); !all.empty())
        incident = all.back().id;
    else {
        lv::incidents::Incident i;
        i.title = QStringLiteral("crash test");
        incident = store.createIncident(i, QStringLiteral("writer"), QDateTime::currentMSecsSinceEpoch());
    }
    std::printf("ready %lld\n", static_cast<long long>(incident));
    std::fflush(stdout);
    for (int n = 0;; ++n) {
        const QString body = QStringLiteral("note %1 of process %2: ").arg(n).arg(QCoreApplication::applicationPid()) + QString(200, QLatin1Char('x'));
        const std::int64_t id = store.addNote(incident, QStringLiteral("writer"), body, QDateTime::currentMSecsSinceEpoch());
        if (id == 0) {
            std::fprintf(stderr, "save failed: %s\n", qPrintable(store.lastError()));
            return 1;
        }
        if (n % 3 == 0 && !store.editNote(id, QStringLiteral("writer"), body + QStringLiteral(" (edited)"), QDateTime::currentMSecsSinceEpoch())) {
            std::fprintf(stderr, "edit failed: %s\n", qPrintable(store.lastError()));
            return 1;
        }
        std::printf("saved %lld %d\n", static_cast<long long>(id), n % 3 == 0 ? 1 : 0);
        std::fflush(stdout);
    }
}
