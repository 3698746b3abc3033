#include "synccore/result.h"

namespace lv {

std::string_view errorName(ErrorCode code) noexcept
{
    switch (code) {
    case ErrorCode::Ok: return "ok";
    case ErrorCode::EndOfData: return "end_of_data";
    case ErrorCode::OutOfRange: return "out_of_range";
    case ErrorCode::BadProtocol: return "bad_protocol";
    case ErrorCode::BadBaseline: return "bad_baseline";
    case ErrorCode::Malformed: return "malformed";
    case ErrorCode::AuthFailed: return "auth_failed";
    case ErrorCode::Expired: return "expired";
    case ErrorCode::Replayed: return "replayed";
    case ErrorCode::Refused: return "refused";
    case ErrorCode::TooLarge: return "too_large";
    case ErrorCode::SocketError: return "socket_error";
    }
    return "unknown";
}

} // namespace lv
