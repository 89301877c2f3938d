// The spellings here are the contract's JSON values (CONTRACT.md).
#include "correlate/close_event.h"

namespace whoclosed {

const char* to_string(Role r) {
    switch (r) {
        case Role::Client: return "client";
        case Role::Server: return "server";
        case Role::Unknown: return "unknown";
    }
    return "unknown";
}

const char* to_string(FirstFin f) {
    switch (f) {
        case FirstFin::Local: return "local";
        case FirstFin::Remote: return "remote";
        case FirstFin::Simultaneous: return "simultaneous";
        case FirstFin::None: return "none";
    }
    return "none";
}

const char* to_string(ResetDir r) {
    switch (r) {
        case ResetDir::None: return "none";
        case ResetDir::Sent: return "sent";
        case ResetDir::Received: return "received";
    }
    return "none";
}

const char* to_string(Reason r) {
    switch (r) {
        case Reason::RequestConnectionClose: return "request_connection_close";
        case Reason::ResponseConnectionClose: return "response_connection_close";
        case Reason::ClientClose: return "client_close";
        case Reason::IdleTimeout: return "idle_timeout";
        case Reason::ProcessExit: return "process_exit";
        case Reason::Reset: return "reset";
        case Reason::Simultaneous: return "simultaneous";
        case Reason::Unknown: return "unknown";
    }
    return "unknown";
}

}  // namespace whoclosed
