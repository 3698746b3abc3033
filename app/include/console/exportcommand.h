#pragma once

#include <QString>
#include <QStringList>

namespace lv::console {

/// Where the console keeps its incidents unless told otherwise (the app's data location).
QString defaultIncidentDatabase();

/// `liveops-console export ...`: incidents and KPI reports from the incident database, with no
/// window. `arguments` are what follows "export". Prints to stdout/stderr; returns the exit code
/// (0 done, 1 failed, 2 bad usage).
int runExport(const QStringList& arguments);

} // namespace lv::console
