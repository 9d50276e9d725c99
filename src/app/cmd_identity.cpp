// `medledger init` and `medledger user add|list`: creating an organisation and enrolling its users.
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "app/cli_errors.h"
#include "app/commands.h"
#include "common/encoding.h"
#include "crypto/random.h"
#include "identity/organization.h"
#include "identity/password_file.h"
#include "io/env.h"
#include "ledger/embedded/data_dir.h"
#include "service/user_event_outbox.h"

namespace medledger::app {
namespace {

using identity::Organization;

// The administrator a CLI change is recorded under: --admin when given (it must be an enabled administrator),
// else the first enabled administrator by name. Resolved before the change, so a bad name changes nothing.
std::string ActingAdmin(Organization& org, const std::string& requested) {
  if (!requested.empty()) {
    auto u = org.users().GetUser(requested);
    if (!u.ok() || u->role != identity::Role::kAdmin || u->disabled) {
      Fail(MakeError(ErrorKind::kInvalidArgument, "not_an_admin", "--admin must name an enabled administrator"));
    }
    return requested;
  }
  for (const auto& u : org.users().ListUsers()) {
    if (u.role == identity::Role::kAdmin && !u.disabled) return u.username;
  }
  return {};
}

// The ledger belongs to the running server (or to the next `serve`): queue the change for it to record, signed
// by the acting administrator (src/service/user_event_outbox.h).
void QueueForLedger(const std::string& data_dir, const std::string& admin, const char* action,
                    const std::string& username) {
  if (admin.empty()) {
    std::cerr << "medledger: warning: no enabled administrator to record this change on the ledger under\n";
    return;
  }
  auto queued = service::UserEventOutbox(data_dir).Append({action, username, admin});
  if (!queued.ok()) Fail(queued.error());
  std::cout << "Queued for the ledger as '" << action << "' by '" << admin
            << "' (the server records it; a stopped server on its next start).\n";
}

struct InitOptions {
  std::string data_dir;
  std::string org_name;
  std::string admin_password_file;
};

void RunInit(const InitOptions& opts) {
  identity::CreateOrganizationOptions options;
  bool generated = false;
  if (!opts.admin_password_file.empty()) {
    auto pw = identity::ReadPasswordFile(opts.admin_password_file);
    if (!pw.ok()) Fail(pw.error());
    options.admin_password = std::move(pw).value();
  } else {
    options.admin_password = Base64UrlEncode(crypto::RandomBytes(18));  // 24 characters, 144 bits
    generated = true;
  }
  auto org = Organization::Create(opts.data_dir, opts.org_name, options);
  if (!org.ok()) Fail(org.error());
  // The ledger exists from here, starting with its genesis (configuration) block: `verify` passes at once.
  auto ledger = ledger::embedded::CreateLedgerFor(**org);
  if (!ledger.ok()) Fail(ledger.error());
  std::cout << "Initialised organisation '" << (*org)->name() << "' (MSP ID " << (*org)->msp_id() << ") in "
            << opts.data_dir << "\n"
            << "  CA:      " << (*org)->ca_certificate().SubjectCommonName() << "\n"
            << "  orderer: " << (*org)->orderer().certificate().SubjectCommonName() << "\n"
            << "  peer:    " << (*org)->peer().certificate().SubjectCommonName() << "\n"
            << "  admin:   admin\n";
  if (generated) {
    auto path = (*org)->data_dir() / "keys" / "initial-admin-password";
    auto st = io::CreateFileExclusive(*io::Env::Default(), path, *options.admin_password + "\n");
    if (!st.ok()) Fail(st.error());
    std::cout << "The admin password was generated and written to " << path.string()
              << " (mode 0600); change it and delete the file.\n";
  }
}

struct UserAddOptions {
  std::string admin;
  std::string data_dir;
  std::string name;
  std::string role;
  std::string display_name;
  std::string password_file;
};

void RunUserAdd(const UserAddOptions& opts) {
  auto role = identity::ParseRole(opts.role);
  if (!role.ok()) Fail(role.error());
  identity::NewUser user{opts.name, *role, opts.display_name, std::nullopt};
  if (!opts.password_file.empty()) {
    auto pw = identity::ReadPasswordFile(opts.password_file);
    if (!pw.ok()) Fail(pw.error());
    user.password = std::move(pw).value();
  }
  auto org = Organization::Open(opts.data_dir);
  if (!org.ok()) Fail(org.error());
  const std::string admin = ActingAdmin(**org, opts.admin);
  auto added = (*org)->AddUser(user);
  if (!added.ok()) Fail(added.error());
  auto cert = crypto::Certificate::FromPem(added->cert_pem);
  std::cout << "Enrolled '" << added->username << "' as " << identity::RoleName(added->role) << " in "
            << (*org)->msp_id();
  if (cert.ok()) std::cout << " (certificate serial " << cert->SerialHex() << ")";
  std::cout << "\n";
  if (!user.password) std::cout << "No password was set: this user cannot log in until one is.\n";
  QueueForLedger(opts.data_dir, admin.empty() ? added->username : admin, "enrolled", added->username);
}

struct UserImportOptions {
  std::string data_dir, name, cert_file, key_file, ca_file, display_name, password_file, admin;
};

std::string ReadSmallFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Fail(MakeError(ErrorKind::kNotFound, "file_not_found", std::string("cannot read the ") + what + " " + path));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() > 64 * 1024)
    Fail(MakeError(ErrorKind::kInvalidArgument, "file_too_large", path + " is not a PEM file"));
  return bytes;
}

void RunUserImport(const UserImportOptions& opts) {
  identity::ImportedUser user;
  user.username = opts.name;
  user.cert_pem = ReadSmallFile(opts.cert_file, "certificate");
  user.key_pem = ReadSmallFile(opts.key_file, "key");
  if (!opts.ca_file.empty()) user.issuer_ca_pem = ReadSmallFile(opts.ca_file, "CA certificate");
  user.display_name = opts.display_name;
  if (!opts.password_file.empty()) user.password = OrFail(identity::ReadPasswordFile(opts.password_file));
  auto org = OrFail(Organization::Open(opts.data_dir));
  const std::string admin = ActingAdmin(*org, opts.admin);
  auto added = OrFail(org->ImportUser(user));
  std::cout << "Imported '" << added.username << "' as " << identity::RoleName(added.role) << " in " << org->msp_id()
            << " (key sealed in the wallet; the role comes from the certificate)\n";
  if (!user.password) std::cout << "No password was set: this user cannot log in until one is.\n";
  QueueForLedger(opts.data_dir, admin.empty() ? added.username : admin, "enrolled", added.username);
}

void RunUserList(const std::string& data_dir) {
  // Listing needs no Argon2id work; the cheapest cost keeps `user list` instant.
  identity::OrganizationOptions options;
  options.password_cost = identity::PasswordCost::Minimal();
  auto org = Organization::Open(data_dir, options);
  if (!org.ok()) Fail(org.error());
  auto users = (*org)->users().ListUsers();
  std::cout << std::left << std::setw(24) << "USERNAME" << std::setw(9) << "ROLE" << std::setw(10) << "STATUS"
            << std::setw(10) << "PASSWORD"
            << "DISPLAY NAME\n";
  for (const auto& u : users) {
    std::cout << std::setw(24) << u.username << std::setw(9) << identity::RoleName(u.role) << std::setw(10)
              << (u.disabled ? "disabled" : "active") << std::setw(10) << (u.has_password ? "set" : "none")
              << u.display_name << "\n";
  }
  std::cout << users.size() << " user(s) in " << (*org)->msp_id() << "\n";
}

struct UserChangeOptions {
  std::string data_dir;
  std::string name;
  std::string password_file;
  std::string admin;
};

Organization& OpenForUpdate(const std::string& data_dir, std::unique_ptr<Organization>* holder) {
  auto org = Organization::Open(data_dir);
  if (!org.ok()) Fail(org.error());
  *holder = std::move(org).value();
  return **holder;
}

void RunUserPasswd(const UserChangeOptions& opts) {
  auto pw = identity::ReadPasswordFile(opts.password_file);
  if (!pw.ok()) Fail(pw.error());
  std::unique_ptr<Organization> holder;
  Organization& org = OpenForUpdate(opts.data_dir, &holder);
  const std::string admin = ActingAdmin(org, opts.admin);
  auto st = org.users().SetPassword(opts.name, *pw);
  if (!st.ok()) Fail(st.error());
  std::cout << "Password of '" << opts.name << "' changed; their sessions have ended.\n";
  QueueForLedger(opts.data_dir, admin, "password_reset", opts.name);
}

void RunUserSetDisabled(const UserChangeOptions& opts, bool disabled) {
  std::unique_ptr<Organization> holder;
  Organization& org = OpenForUpdate(opts.data_dir, &holder);
  const std::string admin = ActingAdmin(org, opts.admin);
  auto st = org.users().SetDisabled(opts.name, disabled);
  if (!st.ok()) Fail(st.error());
  std::cout << "User '" << opts.name << "' " << (disabled ? "disabled" : "enabled") << "; their sessions have ended.\n";
  QueueForLedger(opts.data_dir, admin, disabled ? "disabled" : "enabled", opts.name);
}

void RunUserEndSessions(const UserChangeOptions& opts) {
  std::unique_ptr<Organization> holder;
  auto st = OpenForUpdate(opts.data_dir, &holder).users().EndSessions(opts.name);
  if (!st.ok()) Fail(st.error());
  std::cout << "Sessions of '" << opts.name << "' ended.\n";
}

}  // namespace

void AddIdentityCommands(CLI::App& app) {
  auto init_opts = std::make_shared<InitOptions>();
  CLI::App* init = app.add_subcommand("init", "Create an organisation: CA, orderer, peer, admin, encrypted wallet");
  init->add_option("--data", init_opts->data_dir, "Data directory to create (must be absent or empty)")->required();
  init->add_option("--org", init_opts->org_name, "Organisation name (the MSP ID is <Name>MSP)")->required();
  init->add_option("--admin-password-file", init_opts->admin_password_file,
                   "File holding the admin's password (default: generate one)");
  init->callback([init_opts] { RunInit(*init_opts); });

  CLI::App* user = app.add_subcommand("user", "Manage the organisation's users");
  user->require_subcommand(1);

  auto add_opts = std::make_shared<UserAddOptions>();
  CLI::App* add = user->add_subcommand("add", "Enroll a user: key pair, certificate with role, wallet entry");
  add->add_option("--data", add_opts->data_dir, "Data directory")->required();
  add->add_option("--name", add_opts->name, "Username: [a-z0-9][a-z0-9._-]{0,63}")->required();
  add->add_option("--role", add_opts->role, "admin, doctor, patient or auditor")
      ->required()
      ->check(CLI::IsMember({"admin", "doctor", "patient", "auditor"}));
  add->add_option("--display-name", add_opts->display_name, "Name shown in the app (default: the username)");
  add->add_option("--password-file", add_opts->password_file, "File holding the password (never pass it in argv)");
  add->add_option("--admin", add_opts->admin,
                  "Administrator the change is recorded under on the ledger (default: the first enabled one)");
  add->callback([add_opts] { RunUserAdd(*add_opts); });

  auto import_opts = std::make_shared<UserImportOptions>();
  CLI::App* import = user->add_subcommand(
      "import", "Import an identity enrolled elsewhere (e.g. by Fabric CA): certificate and key into the wallet");
  import->add_option("--data", import_opts->data_dir, "Data directory")->required();
  import->add_option("--name", import_opts->name, "Username: must equal the certificate's CN")->required();
  import->add_option("--cert", import_opts->cert_file, "PEM certificate with Fabric CA's role attribute")->required();
  import->add_option("--key", import_opts->key_file, "PEM private key (P-256) of that certificate")->required();
  import->add_option("--ca", import_opts->ca_file, "PEM CA that issued it (default: this organisation's CA)");
  import->add_option("--display-name", import_opts->display_name, "Name shown in the app (default: the username)");
  import->add_option("--password-file", import_opts->password_file, "File holding the password (never in argv)");
  import->add_option("--admin", import_opts->admin,
                     "Administrator the change is recorded under on the ledger (default: the first enabled one)");
  import->footer("The key file is read once and sealed in the wallet; delete the plaintext copy afterwards.");
  import->callback([import_opts] { RunUserImport(*import_opts);
});

auto list_dir = std::make_shared<std::string>();
CLI::App* list = user->add_subcommand("list", "List users, their roles and status");
list->add_option("--data", *list_dir, "Data directory")->required();
list->callback([list_dir] { RunUserList(*list_dir); });

auto passwd_opts = std::make_shared<UserChangeOptions>();
CLI::App* passwd = user->add_subcommand("passwd", "Set a user's password");
passwd->add_option("--data", passwd_opts->data_dir, "Data directory")->required();
passwd->add_option("--name", passwd_opts->name, "Username")->required();
passwd->add_option("--password-file", passwd_opts->password_file, "File holding the new password")->required();
passwd->add_option("--admin", passwd_opts->admin,
                   "Administrator the change is recorded under on the ledger (default: the first enabled one)");
passwd->callback([passwd_opts] { RunUserPasswd(*passwd_opts); });

for (bool disable : {true, false}) {
  auto opts = std::make_shared<UserChangeOptions>();
  CLI::App* cmd = user->add_subcommand(disable ? "disable" : "enable",
                                       disable ? "Disable a user: no login, no signing" : "Re-enable a user");
  cmd->add_option("--data", opts->data_dir, "Data directory")->required();
  cmd->add_option("--name", opts->name, "Username")->required();
  cmd->add_option("--admin", opts->admin,
                  "Administrator the change is recorded under on the ledger (default: the first enabled one)");
  cmd->callback([opts, disable] { RunUserSetDisabled(*opts, disable); });
}

auto end_opts = std::make_shared<UserChangeOptions>();
CLI::App* end = user->add_subcommand("end-sessions", "Sign a user out everywhere (e.g. a lost device)");
end->add_option("--data", end_opts->data_dir, "Data directory")->required();
end->add_option("--name", end_opts->name, "Username")->required();
end->callback([end_opts] { RunUserEndSessions(*end_opts); });
}  // namespace medledger::app

}  // namespace medledger::app
