// An organisation on disk: its CA, the orderer and peer node identities, the wallet and the user directory.
// The embedded ledger, the server and the CLI all work through this class. See docs/IDENTITY.md.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "crypto/ecdsa.h"
#include "crypto/x509.h"
#include "identity/password.h"
#include "identity/signing_identity.h"
#include "identity/user_directory.h"
#include "identity/wallet.h"
#include "io/env.h"

namespace medledger::identity {

struct OrganizationOptions {
  PasswordCost password_cost = PasswordCost::Default();
  io::Env* env = nullptr;  // the disk the organisation's files live on; null: io::Env::Default()
};

struct CreateOrganizationOptions : OrganizationOptions {
  // The initial admin user's password; without one the admin cannot log in until SetPassword.
  std::optional<std::string> admin_password;
  std::string admin_username = "admin";
};

struct NewUser {
  std::string username;
  Role role = Role::kPatient;
  std::string display_name;             // defaults to the username
  std::optional<std::string> password;  // none: enrolled for the ledger, cannot log in yet
};

// An identity enrolled elsewhere (a Fabric CA): its certificate and key, imported into the wallet as they are.
struct ImportedUser {
  std::string username;  // must equal the certificate's CN (Fabric CA: the enrollment ID)
  std::string cert_pem;
  std::string key_pem;        // PKCS#8 or SEC1, P-256, matching the certificate
  std::string issuer_ca_pem;  // the CA that issued it; empty: this organisation's own CA
  std::string display_name;
  std::optional<std::string> password;  // none: a ledger identity that cannot log in yet
};

// "<Name>MSP" keeping only ASCII letters and digits of the name ("St. Mary's" -> "StMarysMSP").
Result<std::string> MspIdForName(std::string_view org_name);

class Organization {
 public:
  // Creates DIR (which must be absent or empty) with a new CA, orderer, peer and admin.
  static Result<std::unique_ptr<Organization>> Create(const std::filesystem::path& dir, std::string_view org_name,
                                                      const CreateOrganizationOptions& options = {});
  static Result<std::unique_ptr<Organization>> Open(const std::filesystem::path& dir,
                                                    const OrganizationOptions& options = {});

  Organization(const Organization&) = delete;
  Organization& operator=(const Organization&) = delete;

  const std::filesystem::path& data_dir() const { return dir_; }
  const std::string& name() const { return name_; }
  const std::string& msp_id() const { return msp_id_; }
  const crypto::Certificate& ca_certificate() const { return ca_cert_; }
  const SigningIdentity& orderer() const { return orderer_; }
  const SigningIdentity& peer() const { return peer_; }
  UserDirectory& users() { return *users_; }
  const UserDirectory& users() const { return *users_; }
  const Wallet& wallet() const { return wallet_; }
  // For other purpose-bound keys (server secrets, sealed files): derive with a purpose of your own, never
  // "medledger/wallet/v1".
  const MasterKey& master_key() const { return wallet_.master_key(); }

  // Enrolls a user: a fresh P-256 key, a certificate from the CA (CN = username, OU client or admin,
  // attributes role / hf.EnrollmentID / hf.Type), the key in the wallet, the record in the directory.
  Result<User> AddUser(const NewUser& user);
  // Imports an identity issued by the organisation's CA or by `issuer_ca_pem` (e.g. its Fabric CA): the key must
  // match the certificate, the certificate must be valid now and carry Fabric CA's `role` attribute, which
  // becomes the user's role. Codes: "user_exists", "key_mismatch", "untrusted_certificate",
  // "role_attribute_missing", "username_mismatch", "invalid_certificate", "invalid_key".
  Result<User> ImportUser(const ImportedUser& user);
  // The user's ledger identity, decrypted from the wallet once and cached. "user_disabled" for disabled users.
  Result<SigningIdentity> LoadIdentity(std::string_view username) const;
  // The organisation's service identity (CN "medledger-log", role attribute "service"): the contract lets it
  // anchor the report log's checkpoints and record key releases to other hospitals, nothing else. Issued by the
  // CA on first use and kept in the wallet as "_log".
  Result<SigningIdentity> ServiceIdentity();

  // Checks that `cert` was issued by this organisation's CA and is valid now.
  Status VerifyMember(const crypto::Certificate& cert) const;

 private:
  Organization(std::filesystem::path dir, std::string name, std::string msp_id, crypto::Certificate ca_cert,
               crypto::EcPrivateKey ca_key, SigningIdentity orderer, SigningIdentity peer, Wallet wallet,
               std::unique_ptr<UserDirectory> users, io::Env* env);

  std::filesystem::path dir_;
  io::Env* env_;
  std::string name_;
  std::string msp_id_;
  crypto::Certificate ca_cert_;
  crypto::EcPrivateKey ca_key_;
  SigningIdentity orderer_;
  SigningIdentity peer_;
  Wallet wallet_;
  std::unique_ptr<UserDirectory> users_;

  std::mutex enroll_mu_;  // one enrollment at a time within the process (the directory locks across processes)
  mutable std::shared_mutex cache_mu_;
  mutable std::map<std::string, SigningIdentity, std::less<>> identity_cache_;
};

}  // namespace medledger::identity
