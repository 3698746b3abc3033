// syncd's configuration inputs: the TOML config, the API token file and the cluster key file. Bad
// text is an error that names the line, never a crash.
#include "liveops/auth.h"
#include "liveops/config.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::string error;
    (void)lv::liveops::parseConfig(text, "fuzz.toml", "/nonexistent", error);
    (void)lv::liveops::TokenTable::parse(text, error);
    (void)lv::liveops::parseKey(text);
    return 0;
}
