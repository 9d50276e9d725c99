// Beast's parsed request head -> http::Request (method, target, lower-case header names, repeated headers
// joined with ", "). Internal to the transport: server.cpp and the HTTP request fuzzer include it, so the
// fuzzer runs the very conversion the server does. Everything else sees only http/message.h.
#pragma once

#include <algorithm>
#include <boost/beast/http.hpp>
#include <cctype>
#include <string>

#include "http/message.h"

namespace medledger::http {

template <class Fields>
void CopyHead(const boost::beast::http::request_header<Fields>& msg, Request& req) {
  req.method = std::string(msg.method_string());
  req.SetTarget(std::string(msg.target()));
  for (const auto& field : msg) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    auto [it, inserted] = req.headers.emplace(name, std::string(field.value()));
    if (!inserted) it->second += ", " + std::string(field.value());
  }
}

}  // namespace medledger::http
