// Mutual TLS between medledger servers: the transport requires and verifies a client certificate against the
// configured CAs and hands the verified chain to the handler; the HTTP client presents its certificate and
// verifies the server's against its own CA file. Certificates are made with the openssl CLI, as an
// organisation's TLS CA would issue them (P-256, the server's with an IP subjectAltName).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "http/server.h"
#include "net/http_client.h"
#include "temp_dir.h"

namespace medledger::http {
namespace {

bool RunShell(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class MutualTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RunShell("openssl version")) GTEST_SKIP() << "the openssl CLI is not installed";
    ASSERT_TRUE(MakeCa("ca_a"));
    ASSERT_TRUE(MakeCa("ca_b"));
    ASSERT_TRUE(Issue("ca_a", "server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"));
    ASSERT_TRUE(Issue("ca_a", "client", "extendedKeyUsage=clientAuth"));
    ASSERT_TRUE(Issue("ca_b", "stranger", "extendedKeyUsage=clientAuth"));
  }

  bool MakeCa(const std::string& name) {
    return RunShell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj '/O=" + name +
                    "/CN=tlsca." + name + "' -keyout '" + dir_.Sub(name + ".key") + "' -out '" +
                    dir_.Sub(name + ".crt") + "'");
  }

  bool Issue(const std::string& ca, const std::string& name, const std::string& extensions) {
    std::ofstream(dir_.Sub(name + ".ext")) << extensions << "\n";
    return RunShell("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/O=" + ca + "/CN=" +
                    name + "' -keyout '" + dir_.Sub(name + ".key") + "' -out '" + dir_.Sub(name + ".csr") + "'") &&
           RunShell("openssl x509 -req -days 1 -in '" + dir_.Sub(name + ".csr") + "' -CA '" + dir_.Sub(ca + ".crt") +
                    "' -CAkey '" + dir_.Sub(ca + ".key") + "' -CAcreateserial -extfile '" + dir_.Sub(name + ".ext") +
                    "' -out '" + dir_.Sub(name + ".crt") + "'");
  }

  // A server that requires client certificates from `client_ca` and answers with the chain it was given.
  std::unique_ptr<Server> StartServer(const std::string& client_ca) {
    ServerOptions o;
    o.port = 0;
    o.worker_threads = 2;
    o.tls_cert_file = dir_.Sub("server.crt");
    o.tls_key_file = dir_.Sub("server.key");
    o.tls_client_ca_file = dir_.Sub(client_ca + ".crt");
    auto server = Server::Start(o, [](Request& req) {
      Response r;
      r.body = req.peer_certificates_pem;
      return r;
    });
    EXPECT_TRUE(server.ok()) << (server.ok() ? "" : server.error().ToString());
    return server.ok() ? std::move(server).value() : nullptr;
  }

  net::HttpCall Call(uint16_t port, const std::string& cert) {
    net::HttpCall c;
    c.url = "https://127.0.0.1:" + std::to_string(port) + "/peer/v1/keys/release";
    c.content_type = "application/json";
    c.body = "{}";
    c.ca_file = dir_.Sub("ca_a.crt");
    if (!cert.empty()) {
      c.client_cert_file = dir_.Sub(cert + ".crt");
      c.client_key_file = dir_.Sub(cert + ".key");
    }
    return c;
  }

  testing::TempDir dir_{"medledger-mtls"};
};

TEST_F(MutualTlsTest, AMemberCertificateIsVerifiedAndHandedToTheHandler) {
  auto server = StartServer("ca_a");
  ASSERT_NE(server, nullptr);
  auto reply = net::HttpFetch(Call(server->port(), "client"));
  ASSERT_TRUE(reply.ok()) << reply.error().ToString();
  EXPECT_EQ(reply->status, 200);
  // Leaf first, then the CA that verified it.
  EXPECT_EQ(reply->body, ReadFile(dir_.Sub("client.crt")) + ReadFile(dir_.Sub("ca_a.crt")));
}

TEST_F(MutualTlsTest, NoClientCertificateIsRefusedInTheHandshake) {
  auto server = StartServer("ca_a");
  ASSERT_NE(server, nullptr);
  auto reply = net::HttpFetch(Call(server->port(), ""));
  ASSERT_FALSE(reply.ok()) << "status " << reply->status;
  EXPECT_EQ(reply.error().code, "http_unavailable");
}

TEST_F(MutualTlsTest, ACertificateFromAnUnknownCaIsRefused) {
  auto server = StartServer("ca_a");
  ASSERT_NE(server, nullptr);
  auto reply = net::HttpFetch(Call(server->port(), "stranger"));
  ASSERT_FALSE(reply.ok()) << "status " << reply->status;
  EXPECT_EQ(reply.error().code, "http_unavailable");
  // The server's own certificate, issued by the client CA, is no client certificate to a server that trusts
  // only another CA.
  auto other = StartServer("ca_b");
  ASSERT_NE(other, nullptr);
  EXPECT_FALSE(net::HttpFetch(Call(other->port(), "client")).ok());
  EXPECT_TRUE(net::HttpFetch(Call(other->port(), "stranger")).ok());
}

TEST_F(MutualTlsTest, TheClientVerifiesTheServerAgainstItsCaFile) {
  auto server = StartServer("ca_a");
  ASSERT_NE(server, nullptr);
  auto call = Call(server->port(), "client");
  call.ca_file = dir_.Sub("ca_b.crt");  // a CA that did not issue the server's certificate
  auto reply = net::HttpFetch(call);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, "http_unavailable");
  call.ca_file.clear();  // the system's trust store does not know the consortium's CAs either
  reply = net::HttpFetch(call);
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.error().code, "http_unavailable");
}

TEST_F(MutualTlsTest, WithoutClientCasRequestsCarryNoChain) {
  // Plain TLS without client CAs: no chain, whatever the request says.
  ServerOptions o;
  o.port = 0;
  o.tls_cert_file = dir_.Sub("server.crt");
  o.tls_key_file = dir_.Sub("server.key");
  auto server = Server::Start(o, [](Request& req) {
    Response r;
    r.body = req.peer_certificates_pem.empty() ? "none" : "chain";
    return r;
  });
  ASSERT_TRUE(server.ok());
  auto call = Call((*server)->port(), "client");
  auto reply = net::HttpFetch(call);
  ASSERT_TRUE(reply.ok()) << reply.error().ToString();
  EXPECT_EQ(reply->body, "none");
}

TEST_F(MutualTlsTest, ConfigurationErrors) {
  ServerOptions o;
  o.port = 0;
  o.tls_client_ca_file = dir_.Sub("ca_a.crt");  // client certificates without TLS
  EXPECT_EQ(Server::Start(o, [](Request&) { return Response{}; }).error().code, "tls_config_invalid");
  o.tls_cert_file = dir_.Sub("server.crt");
  o.tls_key_file = dir_.Sub("server.key");
  o.tls_client_ca_file = dir_.Sub("missing.crt");
  EXPECT_EQ(Server::Start(o, [](Request&) { return Response{}; }).error().code, "tls_config_invalid");
  net::HttpCall c;
  c.url = "https://127.0.0.1:1/";
  c.client_cert_file = dir_.Sub("client.crt");  // without its key
  EXPECT_EQ(net::HttpFetch(c).error().code, "http_bad_call");
}

}  // namespace
}  // namespace medledger::http
