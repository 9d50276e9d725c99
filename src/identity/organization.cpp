#include "identity/organization.h"

#include <sys/stat.h>

#include <cctype>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "common/time.h"
#include "crypto/random.h"
#include "identity/data_format.h"
#include "io/env.h"
#include "io/posix_util.h"

namespace medledger::identity {
namespace {

namespace fs = std::filesystem;

constexpr int kVersion = 1;
constexpr char kCaName[] = "_ca";
constexpr char kOrdererName[] = "_orderer";
constexpr char kPeerName[] = "_peer";

struct Layout {
  explicit Layout(const fs::path& dir)
      : root(dir),
        org_file(dir / "org.json"),
        ca_dir(dir / "ca"),
        ca_cert(dir / "ca" / "ca-cert.pem"),
        keys_dir(dir / "keys"),
        master_key(dir / "keys" / "master.key"),
        wallet_dir(dir / "wallet"),
        users_file(dir / "users.json"),
        enroll_lock(dir / "enroll.lock") {}
  fs::path root, org_file, ca_dir, ca_cert, keys_dir, master_key, wallet_dir, users_file, enroll_lock;
};

Status ValidateOrgName(std::string_view name) {
  if (name.empty() || name.size() > 64 || !IsValidUtf8(name)) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_org_name", "organisation name must be 1-64 bytes of UTF-8");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return MakeError(ErrorKind::kInvalidArgument, "bad_org_name", "organisation name has control characters");
    }
  }
  return OkStatus();
}

// Lower-case host-like label for node CNs ("peer0.hospital").
std::string Slug(std::string_view msp_base) {
  std::string s;
  for (char c : msp_base.substr(0, 40)) s.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return s;
}

Status CheckEmptyOrAbsent(const fs::path& dir) {
  std::error_code ec;
  auto st = fs::symlink_status(dir, ec);
  if (ec || !fs::exists(st)) return OkStatus();
  if (!fs::is_directory(st)) {
    return MakeError(ErrorKind::kAlreadyExists, "data_dir_not_empty", dir.string() + " exists and is not a directory");
  }
  if (!fs::is_empty(dir, ec) || ec) {
    return MakeError(ErrorKind::kAlreadyExists, "data_dir_not_empty",
                     dir.string() + " is not empty; refusing to initialise over existing data");
  }
  return OkStatus();
}

Result<SigningIdentity> IssueNode(const std::string& org_name, const std::string& msp_id, const std::string& cn,
                                  const std::string& ou, const crypto::EcPrivateKey& ca_key,
                                  const crypto::Certificate& ca_cert) {
  ML_ASSIGN_OR_RETURN(auto key, crypto::EcPrivateKey::Generate());
  crypto::CertificateRequest req;
  req.common_name = cn;
  req.organization = org_name;
  req.organizational_units = {ou};
  req.attributes = {{"hf.EnrollmentID", cn}, {"hf.Type", ou}};
  ML_ASSIGN_OR_RETURN(auto cert, crypto::IssueCertificate(req, key.PublicKey(), ca_key, &ca_cert));
  return SigningIdentity(msp_id, std::move(cert), std::move(key));
}

Error OrgCorrupt(const fs::path& dir, std::string_view why) {
  return MakeError(ErrorKind::kCorruption, "org_corrupt", dir.string() + ": " + std::string(why));
}

}  // namespace

Result<std::string> MspIdForName(std::string_view org_name) {
  std::string base;
  for (char c : org_name) {
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 && static_cast<unsigned char>(c) < 0x80) base.push_back(c);
  }
  if (base.empty()) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_org_name",
                     "organisation name needs at least one ASCII letter or digit for its MSP ID");
  }
  return base + "MSP";
}

Organization::Organization(fs::path dir, std::string name, std::string msp_id, crypto::Certificate ca_cert,
                           crypto::EcPrivateKey ca_key, SigningIdentity orderer, SigningIdentity peer, Wallet wallet,
                           std::unique_ptr<UserDirectory> users, io::Env* env)
    : dir_(std::move(dir)),
      env_(env),
      name_(std::move(name)),
      msp_id_(std::move(msp_id)),
      ca_cert_(std::move(ca_cert)),
      ca_key_(std::move(ca_key)),
      orderer_(std::move(orderer)),
      peer_(std::move(peer)),
      wallet_(std::move(wallet)),
      users_(std::move(users)) {}

Result<std::unique_ptr<Organization>> Organization::Create(const fs::path& dir, std::string_view org_name,
                                                           const CreateOrganizationOptions& options) {
  io::Env* env = options.env != nullptr ? options.env : io::Env::Default();
  ML_RETURN_IF_ERROR(ValidateOrgName(org_name));
  ML_ASSIGN_OR_RETURN(std::string msp_id, MspIdForName(org_name));
  ML_RETURN_IF_ERROR(ValidateUsername(options.admin_username));
  if (options.admin_password) ML_RETURN_IF_ERROR(ValidatePassword(*options.admin_password));
  ML_RETURN_IF_ERROR(CheckEmptyOrAbsent(dir));
  Layout layout(dir);
  if (dir.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(dir.parent_path(), ec);
    if (ec) return MakeError(ErrorKind::kIoError, "io_error", "cannot create " + dir.parent_path().string());
  }
  ML_RETURN_IF_ERROR(io::MakeDirectory(layout.root, 0700));
  // An existing (empty) directory keeps the mode it was made with, often 0755: the data directory is the
  // guard for everything in it, including files a library creates with its own mode (RocksDB's 0644).
  ML_RETURN_IF_ERROR(io::RestrictToOwner(layout.root));
  ML_RETURN_IF_ERROR(io::MakeDirectory(layout.keys_dir, 0700));
  // O_EXCL: of two concurrent inits on the same directory, exactly one gets past this point.
  auto master = MasterKey::Create(layout.master_key);
  if (!master.ok()) {
    if (master.error().code == "already_exists") {
      return MakeError(ErrorKind::kAlreadyExists, "data_dir_not_empty", dir.string() + " is already initialised");
    }
    return master.error();
  }
  ML_RETURN_IF_ERROR(io::MakeDirectory(layout.wallet_dir, 0700));
  ML_RETURN_IF_ERROR(io::MakeDirectory(layout.ca_dir, 0700));
  Wallet wallet(layout.wallet_dir, std::move(master).value(), env);

  const std::string name(org_name);
  const std::string slug = Slug(msp_id.substr(0, msp_id.size() - 3));
  ML_ASSIGN_OR_RETURN(auto ca_key, crypto::EcPrivateKey::Generate());
  crypto::CertificateRequest ca_req;
  ca_req.common_name = "ca." + slug;
  ca_req.organization = name;
  ca_req.is_ca = true;
  ca_req.validity = std::chrono::hours(24 * 365 * 10);
  ML_ASSIGN_OR_RETURN(auto ca_cert, crypto::IssueCertificate(ca_req, ca_key.PublicKey(), ca_key, nullptr));
  ML_RETURN_IF_ERROR(wallet.Put(kCaName, SigningIdentity(msp_id, ca_cert, ca_key)));
  ML_RETURN_IF_ERROR(io::WriteFileAtomic(*env, layout.ca_cert, ca_cert.ToPem()));

  ML_ASSIGN_OR_RETURN(auto orderer, IssueNode(name, msp_id, "orderer." + slug, "orderer", ca_key, ca_cert));
  ML_ASSIGN_OR_RETURN(auto peer, IssueNode(name, msp_id, "peer0." + slug, "peer", ca_key, ca_cert));
  ML_RETURN_IF_ERROR(wallet.Put(kOrdererName, orderer));
  ML_RETURN_IF_ERROR(wallet.Put(kPeerName, peer));

  ML_ASSIGN_OR_RETURN(auto users, UserDirectory::Open(layout.users_file, options.password_cost, env));
  std::unique_ptr<Organization> org(new Organization(dir, name, msp_id, std::move(ca_cert), std::move(ca_key),
                                                     std::move(orderer), std::move(peer), std::move(wallet),
                                                     std::move(users), env));
  NewUser admin{options.admin_username, Role::kAdmin, "Administrator", options.admin_password};
  auto admin_user = org->AddUser(admin);
  if (!admin_user.ok()) return admin_user.error();

  ML_RETURN_IF_ERROR(WriteDataFormat(dir, CurrentDataFormat()));
  // Written last: its presence marks a complete organisation (Open refuses a half-initialised directory).
  nlohmann::json doc = {
      {"version", kVersion}, {"name", name}, {"msp_id", msp_id}, {"created", Timestamp::Now().ToRfc3339()}};
  ML_RETURN_IF_ERROR(io::WriteFileAtomic(*env, layout.org_file, doc.dump(2) + "\n"));
  return org;
}

Result<std::unique_ptr<Organization>> Organization::Open(const fs::path& dir, const OrganizationOptions& options) {
  io::Env* env = options.env != nullptr ? options.env : io::Env::Default();
  Layout layout(dir);
  auto text = io::ReadFile(*env, layout.org_file, 64 * 1024);
  if (!text.ok()) {
    if (text.error().kind == ErrorKind::kNotFound) {
      return MakeError(ErrorKind::kNotFound, "org_not_found",
                       dir.string() + " is not an initialised data directory (run `medledger init`)");
    }
    return text.error();
  }
  // Every command that opens a data directory comes through here: one check refuses a directory this
  // release would misread (written by a newer release) or must migrate first. Read-only: never writes.
  ML_RETURN_IF_ERROR(CheckDataFormat(dir));
  // Data directories made before modes were enforced (or loosened by hand) are narrowed on every open. Best
  // effort: a process that is not the owner cannot chmod, and is refused by the mode it would have set anyway.
  (void)io::RestrictToOwner(layout.root);
  nlohmann::json doc = nlohmann::json::parse(text->begin(), text->end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("version") || doc["version"] != kVersion ||
      !doc.contains("name") || !doc["name"].is_string() || !doc.contains("msp_id") || !doc["msp_id"].is_string()) {
    return OrgCorrupt(layout.org_file, "org.json is malformed or of an unsupported version");
  }
  std::string name = doc["name"].get<std::string>();
  std::string msp_id = doc["msp_id"].get<std::string>();

  ML_ASSIGN_OR_RETURN(auto master, MasterKey::Load(layout.master_key));
  Wallet wallet(layout.wallet_dir, std::move(master), env);
  ML_ASSIGN_OR_RETURN(auto ca, wallet.Load(kCaName));
  ML_ASSIGN_OR_RETURN(std::string ca_pem, io::ReadFile(*env, layout.ca_cert, 64 * 1024));
  auto ca_file_cert = crypto::Certificate::FromPem(ca_pem);
  if (!ca_file_cert.ok() || !(*ca_file_cert == ca.certificate()) || !ca.certificate().IsCa()) {
    return OrgCorrupt(layout.ca_cert, "CA certificate does not match the wallet's CA key");
  }
  ML_ASSIGN_OR_RETURN(auto orderer, wallet.Load(kOrdererName));
  ML_ASSIGN_OR_RETURN(auto peer, wallet.Load(kPeerName));
  for (const SigningIdentity* node : {&orderer, &peer}) {
    if (!node->certificate().IsIssuedBy(ca.certificate()) || node->msp_id() != msp_id) {
      return OrgCorrupt(layout.wallet_dir, "node identity '" + node->certificate().SubjectCommonName() +
                                               "' does not belong to this organisation's CA");
    }
  }
  ML_ASSIGN_OR_RETURN(auto users, UserDirectory::Open(layout.users_file, options.password_cost, env));
  return std::unique_ptr<Organization>(new Organization(dir, std::move(name), std::move(msp_id), ca.certificate(),
                                                        ca.private_key(), std::move(orderer), std::move(peer),
                                                        std::move(wallet), std::move(users), env));
}

Result<User> Organization::AddUser(const NewUser& request) {
  ML_RETURN_IF_ERROR(ValidateUsername(request.username));
  if (request.password) ML_RETURN_IF_ERROR(ValidatePassword(*request.password));
  std::lock_guard lock(enroll_mu_);
  // Held across wallet and directory writes so two processes enrolling the same name cannot leave one's key
  // in the wallet next to the other's certificate in the directory.
  ML_ASSIGN_OR_RETURN(auto enroll_lock, env_->LockFile(Layout(dir_).enroll_lock, io::LockWait::kBlock));
  if (users_->GetUser(request.username).ok()) {
    return MakeError(ErrorKind::kAlreadyExists, "user_exists", "user '" + request.username + "' already exists");
  }
  ML_ASSIGN_OR_RETURN(auto key, crypto::EcPrivateKey::Generate());
  const bool is_admin = request.role == Role::kAdmin;
  // A patient's ledger identity carries a random enrollment ID, not the login name: every transaction names
  // its creator's certificate, so a CN equal to the username would link the login to the patient's pseudonym
  // on the immutable ledger. Only users.json (which holds the certificate) maps one to the other.
  const std::string enrollment_id =
      request.role == Role::kPatient ? "p-" + HexEncode(crypto::RandomBytes(16)) : request.username;
  crypto::CertificateRequest req;
  req.common_name = enrollment_id;
  req.organization = name_;
  req.organizational_units = {is_admin ? "admin" : "client"};
  req.attributes = {{"role", RoleName(request.role)}, {"hf.EnrollmentID", enrollment_id}, {"hf.Type", "client"}};
  ML_ASSIGN_OR_RETURN(auto cert, crypto::IssueCertificate(req, key.PublicKey(), ca_key_, &ca_cert_));
  SigningIdentity identity(msp_id_, cert, std::move(key));
  ML_RETURN_IF_ERROR(wallet_.Put(request.username, identity));

  User user;
  user.username = request.username;
  user.role = request.role;
  user.display_name = request.display_name.empty() ? request.username : request.display_name;
  user.cert_pem = identity.cert_pem();
  ML_RETURN_IF_ERROR(users_->AddUser(user, request.password));
  {
    std::unique_lock cache_lock(cache_mu_);
    identity_cache_.insert_or_assign(request.username, identity);
  }
  return users_->GetUser(request.username);
}

Result<User> Organization::ImportUser(const ImportedUser& request) {
  ML_RETURN_IF_ERROR(ValidateUsername(request.username));
  if (request.password) ML_RETURN_IF_ERROR(ValidatePassword(*request.password));
  auto cert = crypto::Certificate::FromPem(request.cert_pem);
  if (!cert.ok())
    return MakeError(ErrorKind::kInvalidArgument, "invalid_certificate", "the certificate does not parse");
  auto key = crypto::EcPrivateKey::FromPem(request.key_pem);
  if (!key.ok()) return MakeError(ErrorKind::kInvalidArgument, "invalid_key", "the key is not a P-256 private key");
  const auto now = std::chrono::system_clock::now();
  if (request.issuer_ca_pem.empty()) {
    if (auto s = cert->VerifyIssuedBy(ca_cert_, now); !s.ok()) {
      return MakeError(ErrorKind::kPermissionDenied, "untrusted_certificate",
                       "not issued by this organisation's CA (name the issuing CA): " + s.error().message);
    }
  } else {
    auto ca = crypto::Certificate::FromPem(request.issuer_ca_pem);
    if (!ca.ok())
      return MakeError(ErrorKind::kInvalidArgument, "invalid_certificate", "the CA certificate does not parse");
    if (auto s = cert->VerifyIssuedBy(*ca, now); !s.ok()) {
      return MakeError(ErrorKind::kPermissionDenied, "untrusted_certificate", s.error().message);
    }
  }
  if (cert->SubjectCommonName() != request.username) {
    return MakeError(ErrorKind::kInvalidArgument, "username_mismatch",
                     "the certificate names '" + cert->SubjectCommonName() + "', not '" + request.username + "'");
  }
  ML_ASSIGN_OR_RETURN(auto attrs, cert->FabricAttributes());
  auto role_attr = attrs.find("role");
  if (role_attr == attrs.end()) {
    return MakeError(ErrorKind::kInvalidArgument, "role_attribute_missing",
                     "the certificate has no Fabric CA 'role' attribute (enroll with --enrollment.attrs role)");
  }
  ML_ASSIGN_OR_RETURN(Role role, ParseRole(role_attr->second));
  auto identity = SigningIdentity::Create(msp_id_, *cert, std::move(*key));
  if (!identity.ok())
    return MakeError(ErrorKind::kInvalidArgument, "key_mismatch", "the key does not match the certificate");

  std::lock_guard lock(enroll_mu_);
  ML_ASSIGN_OR_RETURN(auto enroll_lock, env_->LockFile(Layout(dir_).enroll_lock, io::LockWait::kBlock));
  if (users_->GetUser(request.username).ok()) {
    return MakeError(ErrorKind::kAlreadyExists, "user_exists", "user '" + request.username + "' already exists");
  }
  ML_RETURN_IF_ERROR(wallet_.Put(request.username, *identity));
  User user;
  user.username = request.username;
  user.role = role;
  user.display_name = request.display_name.empty() ? request.username : request.display_name;
  user.cert_pem = identity->cert_pem();
  ML_RETURN_IF_ERROR(users_->AddUser(user, request.password));
  {
    std::unique_lock cache_lock(cache_mu_);
    identity_cache_.insert_or_assign(request.username, *identity);
  }
  return users_->GetUser(request.username);
}

Result<SigningIdentity> Organization::ServiceIdentity() {
  constexpr char kLogName[] = "_log";
  constexpr char kLogCn[] = "medledger-log";
  std::lock_guard lock(enroll_mu_);
  if (wallet_.Contains(kLogName)) {
    ML_ASSIGN_OR_RETURN(SigningIdentity existing, wallet_.Load(kLogName));
    if (!existing.certificate().IsIssuedBy(ca_cert_) || existing.msp_id() != msp_id_) {
      return OrgCorrupt(Layout(dir_).wallet_dir, "the log identity does not belong to this organisation's CA");
    }
    return existing;
  }
  ML_ASSIGN_OR_RETURN(auto key, crypto::EcPrivateKey::Generate());
  crypto::CertificateRequest req;
  req.common_name = kLogCn;
  req.organization = name_;
  req.organizational_units = {"client"};
  req.attributes = {{"role", "service"}, {"hf.EnrollmentID", kLogCn}, {"hf.Type", "client"}};
  ML_ASSIGN_OR_RETURN(auto cert, crypto::IssueCertificate(req, key.PublicKey(), ca_key_, &ca_cert_));
  SigningIdentity identity(msp_id_, std::move(cert), std::move(key));
  ML_RETURN_IF_ERROR(wallet_.Put(kLogName, identity));
  return identity;
}

Result<SigningIdentity> Organization::LoadIdentity(std::string_view username) const {
  ML_ASSIGN_OR_RETURN(User user, users_->GetUser(username));
  if (user.disabled) {
    return MakeError(ErrorKind::kPermissionDenied, "user_disabled", "user '" + user.username + "' is disabled");
  }
  {
    std::shared_lock lock(cache_mu_);
    auto it = identity_cache_.find(username);
    if (it != identity_cache_.end() && it->second.cert_pem() == user.cert_pem) return it->second;
  }
  ML_ASSIGN_OR_RETURN(SigningIdentity identity, wallet_.Load(username));
  if (identity.cert_pem() != user.cert_pem || identity.msp_id() != msp_id_) {
    return MakeError(ErrorKind::kCorruption, "wallet_mismatch",
                     "wallet entry for '" + user.username + "' does not match the user directory");
  }
  std::unique_lock lock(cache_mu_);
  identity_cache_.insert_or_assign(std::string(username), identity);
  return identity;
}

Status Organization::VerifyMember(const crypto::Certificate& cert) const {
  return cert.VerifyIssuedBy(ca_cert_, std::chrono::system_clock::now());
}

}  // namespace medledger::identity
