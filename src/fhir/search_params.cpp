#include "fhir/search_params.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/encoding.h"
#include "common/time.h"

namespace medledger::fhir {
namespace {

constexpr int64_t kDayMs = 86400000;

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding; false on a broken escape.
bool Decode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out->push_back(' ');
    } else if (in[i] == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = Hex(in[i + 1]);
      int lo = Hex(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out->push_back(in[i]);
    }
  }
  return true;
}

bool ParseUint(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 9) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

int64_t DayStartMs(int year, int month, int day) {
  return CivilDate{year, month, day}.DaysSinceEpoch() * kDayMs;
}

// Report and patient IDs are short tokens of letters, digits, '-', '_' and '.'; anything else cannot name one.
bool IsIdToken(std::string_view s) {
  return !s.empty() && s.size() <= 128 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

bool ParseDateRange(std::string_view t, DateRange* out) {
  auto digits = [&](size_t pos, size_t n) {
    if (pos + n > t.size()) return -1;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return -1;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  if (t.size() == 4) {
    int y = digits(0, 4);
    if (y < 1 || y > 9998) return false;
    *out = {DayStartMs(y, 1, 1), DayStartMs(y + 1, 1, 1)};
    return true;
  }
  if (t.size() == 7) {
    int y = digits(0, 4), m = digits(5, 2);
    if (t[4] != '-' || y < 1 || y > 9998 || m < 1 || m > 12) return false;
    *out = {DayStartMs(y, m, 1), m == 12 ? DayStartMs(y + 1, 1, 1) : DayStartMs(y, m + 1, 1)};
    return true;
  }
  if (t.size() == 10) {
    auto d = CivilDate::Parse(t);
    if (!d.ok()) return false;
    int64_t lo = d->DaysSinceEpoch() * kDayMs;
    *out = {lo, lo + kDayMs};
    return true;
  }
  auto ts = Timestamp::FromRfc3339(t);
  if (!ts.ok()) return false;
  // A dateTime names one instant at its precision: seconds without a fraction cover the whole second.
  const bool fraction = t.size() > 19 && t[19] == '.';
  int64_t lo = ts->UnixMillis();
  *out = {lo, lo + (fraction ? 1 : 1000)};
  return true;
}

bool DateCondition::Matches(int64_t r) const {
  switch (prefix) {
    case Prefix::kEq: return r >= range.lo && r < range.hi;
    case Prefix::kNe: return r < range.lo || r >= range.hi;
    case Prefix::kLt:
    case Prefix::kEb: return r < range.lo;
    case Prefix::kGt:
    case Prefix::kSa: return r >= range.hi;
    case Prefix::kLe: return r < range.hi;
    case Prefix::kGe: return r >= range.lo;
  }
  return false;
}

bool SearchQuery::MatchesStatus(std::string_view s) const {
  return std::all_of(status.begin(), status.end(),
                     [&](const TokenParam& any) { return std::find(any.begin(), any.end(), s) != any.end(); });
}

bool SearchQuery::MatchesCodings(const std::vector<TokenParam>& params,
                                 const std::vector<std::pair<std::string, std::string>>& codings) {
  auto one = [&](const std::string& v) {
    const size_t bar = v.find('|');
    return std::any_of(codings.begin(), codings.end(), [&](const auto& c) {
      if (bar == std::string::npos) return v == c.second;
      const std::string_view sys = std::string_view(v).substr(0, bar);
      const std::string_view code = std::string_view(v).substr(bar + 1);
      return (sys.empty() || sys == c.first) && (code.empty() || code == c.second);
    });
  };
  return std::all_of(params.begin(), params.end(),
                     [&](const TokenParam& any) { return std::any_of(any.begin(), any.end(), one); });
}

bool SearchQuery::MatchesDates(const std::vector<DateParam>& params, int64_t instant_ms) {
  return std::all_of(params.begin(), params.end(), [&](const DateParam& any) {
    return std::any_of(any.begin(), any.end(), [&](const DateCondition& c) { return c.Matches(instant_ms); });
  });
}

std::string EncodeQuery(const std::vector<std::pair<std::string, std::string>>& params) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    for (unsigned char c : value) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':' || c == ',' || c == '/') {
        out.push_back(static_cast<char>(c));
      } else {
        out.push_back('%');
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
    }
  }
  return out;
}

bool PrefersStrict(std::string_view prefer) {
  std::string lower(prefer);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  lower.erase(std::remove(lower.begin(), lower.end(), ' '), lower.end());
  return lower.find("handling=strict") != std::string::npos;
}

SearchParse ParseSearch(SearchResource resource, std::string_view raw, bool strict) {
  SearchParse out;
  SearchQuery& q = out.query;
  q.resource = resource;
  auto issue = [&](std::string type, std::string param, std::string message) {
    out.issues.push_back({std::move(type), std::move(param), std::move(message)});
  };
  if (raw.size() > kMaxQueryChars) {
    issue("too-long", "", "the query string is longer than " + std::to_string(kMaxQueryChars) + " characters");
    return out;
  }
  const bool report = resource == SearchResource::kDiagnosticReport;
  const bool patient_search = resource == SearchResource::kPatient;
  const bool provenance = resource == SearchResource::kProvenance;
  const bool audit = resource == SearchResource::kAuditEvent;
  const bool consent = resource == SearchResource::kConsent;
  bool count_seen = false;
  size_t pos = 0;
  while (pos <= raw.size() && !raw.empty()) {
    size_t amp = raw.find('&', pos);
    std::string_view pair = raw.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    pos = amp == std::string_view::npos ? raw.size() + 1 : amp + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name, value;
    if (!Decode(pair.substr(0, eq), &name) ||
        !Decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), &value)) {
      issue("invalid", "", "a parameter is not valid percent-encoding");
      continue;
    }
    // _format and _pretty belong to the HTTP layer (content negotiation), not to the search.
    if (name == "_format" || name == "_pretty") continue;
    std::vector<std::string> values;
    for (std::string_view v : SplitOn(value, ',')) values.emplace_back(v);
    if (values.size() > kMaxValuesPerParam) {
      issue("too-long", name, "at most " + std::to_string(kMaxValuesPerParam) + " values per parameter");
      continue;
    }
    auto date_param = [&](std::vector<DateParam>* target) {
      DateParam any;
      for (const auto& v : values) {
        static const std::pair<const char*, DateCondition::Prefix> kPrefixes[] = {
            {"eq", DateCondition::Prefix::kEq}, {"ne", DateCondition::Prefix::kNe}, {"lt", DateCondition::Prefix::kLt},
            {"gt", DateCondition::Prefix::kGt}, {"le", DateCondition::Prefix::kLe}, {"ge", DateCondition::Prefix::kGe},
            {"sa", DateCondition::Prefix::kSa}, {"eb", DateCondition::Prefix::kEb}};
        DateCondition c;
        std::string_view text = v;
        if (text.size() >= 2 && std::isalpha(static_cast<unsigned char>(text[0]))) {
          std::string_view p = text.substr(0, 2);
          if (p == "ap") {
            issue("not-supported", name, "the prefix ap (approximately) is not supported");
            return;
          }
          auto it =
              std::find_if(std::begin(kPrefixes), std::end(kPrefixes), [&](const auto& k) { return p == k.first; });
          if (it == std::end(kPrefixes)) {
            issue("invalid", name, "unknown date prefix in \"" + v + "\"");
            return;
          }
          c.prefix = it->second;
          text.remove_prefix(2);
        }
        if (!ParseDateRange(text, &c.range)) {
          issue("invalid", name, "\"" + v + "\" is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or a dateTime)");
          return;
        }
        any.push_back(c);
      }
      target->push_back(std::move(any));
      q.canonical.emplace_back(name, value);
    };
    auto single_id = [&](std::string* target, std::string_view strip) {
      if (values.size() != 1) {
        issue("not-supported", name, name + " takes one value");
        return;
      }
      std::string v = values[0];
      if (!strip.empty() && v.rfind(strip, 0) == 0) v = v.substr(strip.size());
      if (!IsIdToken(v)) {
        issue("invalid", name, "\"" + values[0] + "\" is not a resource ID");
        return;
      }
      if (!target->empty() && *target != v) {
        issue("invalid", name, "conflicting values for the same resource");
        return;
      }
      *target = v;
      q.canonical.emplace_back(name, value);
    };
    if (name == "_count") {
      uint64_t n = 0;
      if (count_seen || !ParseUint(value, &n)) {
        issue("invalid", name, "_count is one non-negative integer");
        continue;
      }
      count_seen = true;
      q.count = static_cast<uint32_t>(std::min<uint64_t>(n, kMaxCount));  // larger is clamped, as FHIR allows
    } else if (name == "_page_token") {
      if (!q.page_token.empty() || value.empty() || value.size() > 2048) {
        issue("invalid", name, "_page_token is one token from a next link");
        continue;
      }
      q.page_token = value;
    } else if (name == "_id" && (report || patient_search)) {
      single_id(&q.id, "");
    } else if ((report || audit || consent) && name == "patient") {
      single_id(&q.patient, "Patient/");
    } else if (report && name == "subject") {
      if (values.size() == 1 && values[0].find('/') != std::string::npos && values[0].rfind("Patient/", 0) != 0) {
        issue("not-supported", name, "only a Patient is the subject of a report");
        continue;
      }
      single_id(&q.patient, "Patient/");
    } else if (report && name == "status") {
      // A value outside R4's closed value set can match nothing, and echoing it into the self link would let a
      // lenient query grow links the server then refuses: it is an error, as FHIR allows for a known parameter.
      static constexpr std::string_view kStatuses[] = {"registered",       "partial",   "preliminary", "final",
                                                       "amended",          "corrected", "appended",    "cancelled",
                                                       "entered-in-error", "unknown"};
      const auto known = [](const std::string& v) {
        return std::find(std::begin(kStatuses), std::end(kStatuses), v) != std::end(kStatuses);
      };
      if (!std::all_of(values.begin(), values.end(), known)) {
        issue("invalid", name, "status takes codes of the R4 DiagnosticReport status value set (final, amended, ...)");
        continue;
      }
      q.status.push_back(values);
      q.canonical.emplace_back(name, value);
    } else if (consent && name == "status") {
      static constexpr std::string_view kStates[] = {"draft",    "proposed", "active",
                                                     "rejected", "inactive", "entered-in-error"};
      const auto known = [](const std::string& v) {
        return std::find(std::begin(kStates), std::end(kStates), v) != std::end(kStates);
      };
      if (!std::all_of(values.begin(), values.end(), known)) {
        issue("invalid", name, "status takes codes of the R4 Consent state value set (active, inactive, ...)");
        continue;
      }
      q.status.push_back(values);
      q.canonical.emplace_back(name, value);
    } else if ((audit && (name == "agent" || name == "type" || name == "subtype")) || (consent && name == "actor")) {
      TokenParam any;
      for (std::string v : values) {
        if (name == "actor" && v.rfind("Practitioner/", 0) == 0) v = v.substr(13);
        if (v.empty() || v.size() > 256) {
          issue("invalid", name, name + " takes non-empty values of at most 256 characters");
          break;
        }
        any.push_back(std::move(v));
      }
      if (any.size() != values.size()) continue;
      (name == "agent"     ? q.agent
       : name == "type"    ? q.type
       : name == "subtype" ? q.subtype
                           : q.actor)
          .push_back(std::move(any));
      q.canonical.emplace_back(name, value);
    } else if (provenance && name == "target") {
      if (values.size() == 1 && values[0].find('/') != std::string::npos &&
          values[0].rfind("DiagnosticReport/", 0) != 0) {
        issue("not-supported", name, "only a DiagnosticReport is the target of a Provenance here");
        continue;
      }
      single_id(&q.target, "DiagnosticReport/");
    } else if ((report || audit) && name == "date") {
      date_param(&q.date);
    } else if (name == "_lastUpdated" && report) {
      date_param(&q.last_updated);
    } else if (report && name == "_include") {
      if (value == "DiagnosticReport:subject" || value == "DiagnosticReport:patient") {
        q.include_subject = true;
        q.canonical.emplace_back(name, "DiagnosticReport:subject");
      } else if (strict) {
        issue("not-supported", name, "only _include=DiagnosticReport:subject is supported");
      }
    } else if (report && name == "_revinclude") {
      if (value == "Provenance:target") {
        q.revinclude_provenance = true;
        q.canonical.emplace_back(name, value);
      } else if (strict) {
        issue("not-supported", name, "only _revinclude=Provenance:target is supported");
      }
    } else if (patient_search && name == "name") {
      if (!q.name.empty() || value.empty() || value.size() > 128) {
        issue("invalid", name, "name is one text of 1 to 128 characters");
        continue;
      }
      q.name = value;
      q.canonical.emplace_back(name, value);
    } else if (patient_search && name == "birthdate") {
      date_param(&q.birthdate);
    } else if (strict) {
      issue("not-supported", name, "unknown or unsupported search parameter " + name);
    }
  }
  if (report && q.id.empty() && q.patient.empty() && out.issues.empty()) {
    issue("required", "patient", "a DiagnosticReport search needs patient, subject or _id");
  }
  if (provenance && q.target.empty() && out.issues.empty()) {
    issue("required", "target", "a Provenance search needs target=DiagnosticReport/<id>");
  }
  if (consent && q.patient.empty() && out.issues.empty()) {
    issue("required", "patient", "a Consent search needs patient");
  }
  if (count_seen) q.canonical.emplace_back("_count", std::to_string(q.count));
  // The self and next links carry the canonical query; percent-encoding can make it longer than the raw one,
  // and a link the server would then refuse must not be handed out.
  if (out.issues.empty() && EncodeQuery(q.canonical).size() > kMaxQueryChars) {
    issue("too-long", "",
          "the query, encoded for its links, is longer than " + std::to_string(kMaxQueryChars) + " characters");
  }
  return out;
}

}  // namespace medledger::fhir
