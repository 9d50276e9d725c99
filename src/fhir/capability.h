// The CapabilityStatement (GET /fhir/r4/metadata), built from kInteractions: the one table of what the FHIR
// routes serve and what the search parser understands, so the statement cannot list what is not served.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>

namespace medledger::fhir {

struct SearchParamSpec {
  const char* name;
  const char* type;  // FHIR SearchParamType: token, reference, date, string, number
  const char* documentation;
};

struct ResourceSpec {
  const char* type;
  std::span<const char* const> interactions;  // read, vread, search-type, create, update, history-instance
  std::span<const SearchParamSpec> search_params;
  std::span<const char* const> search_include;
  std::span<const char* const> search_rev_include;
};

std::span<const ResourceSpec> SupportedResources();
bool Supports(const std::string& resource_type, const std::string& interaction);

// Where SMART apps authorize (the SMART `oauth-uris` extension of rest.security); empty: no SMART.
struct OAuthUris {
  std::string authorize;
  std::string token;
};

// `software_version`: the server's version; `base_url`: the FHIR base ("/fhir/r4" or absolute).
nlohmann::json CapabilityStatement(const std::string& software_version, const std::string& base_url,
                                   const OAuthUris& oauth = {});

}  // namespace medledger::fhir
