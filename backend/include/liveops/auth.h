#pragma once

#include "liveops/toggles.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace lv::liveops {

struct Identity {
    std::string name;
    Role role = Role::Viewer;
};

/// Bearer tokens and who they belong to, from a token file: one `<token> <name> <role>` per line,
/// `#` comments and blank lines ignored. Tokens are never logged; only names are.
class TokenTable {
public:
    /// Parses the file's text; on error returns nullopt and `error` names the line.
    static std::optional<TokenTable> parse(std::string_view text, std::string& error);
    void add(std::string token, Identity identity) { m_tokens[std::move(token)] = std::move(identity); }
    /// The identity for an `authorization` header value ("Bearer <token>"), if any.
    std::optional<Identity> authenticate(std::string_view authorizationHeader) const;

private:
    std::map<std::string, Identity, std::less<>> m_tokens;
};

std::optional<Role> parseRole(std::string_view text);

} // namespace lv::liveops
