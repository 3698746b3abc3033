#include "liveops/auth.h"

#include <sstream>

namespace lv::liveops {

std::optional<Role> parseRole(std::string_view text)
{
    for (Role r : {Role::Viewer, Role::Operator, Role::Producer, Role::Admin})
        if (roleName(r) == text)
            return r;
    return std::nullopt;
}

std::optional<TokenTable> TokenTable::parse(std::string_view text, std::string& error)
{
    TokenTable table;
    std::istringstream in{std::string(text)};
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        const auto hash = line.find('#');
        if (hash != std::string::npos)
            line.resize(hash);
        std::istringstream fields(line);
        std::string token, name, role, extra;
        if (!(fields >> token))
            continue;  // blank or comment
        if (!(fields >> name >> role) || (fields >> extra)) {
            error = "line " + std::to_string(number) + ": expected '<token> <name> <role>'";
            return std::nullopt;
        }
        const auto parsed = parseRole(role);
        if (!parsed) {
            error = "line " + std::to_string(number) + ": unknown role '" + role + "' (viewer, operator, producer, admin)";
            return std::nullopt;
        }
        if (token.size() < 16) {
            error = "line " + std::to_string(number) + ": token for '" + name + "' is shorter than 16 characters";
            return std::nullopt;
        }
        if (table.m_tokens.count(token)) {
            error = "line " + std::to_string(number) + ": token for '" + name + "' is already used by another entry";
            return std::nullopt;
        }
        table.m_tokens[token] = Identity{name, *parsed};
    }
    return table;
}

std::optional<Identity> TokenTable::authenticate(std::string_view header) const
{
    constexpr std::string_view prefix = "Bearer ";
    if (header.substr(0, prefix.size()) != prefix)
        return std::nullopt;
    auto it = m_tokens.find(header.substr(prefix.size()));
    if (it == m_tokens.end())
        return std::nullopt;
    return it->second;
}

} // namespace lv::liveops
