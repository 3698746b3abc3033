#pragma once

namespace lv {
/// `git describe --always --dirty` of the sources this was built from ("unknown" outside git).
/// Lives in its own generated file: a new commit recompiles one file, not the project.
const char* gitRevision();
} // namespace lv
