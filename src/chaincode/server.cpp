#include "chaincode/server.h"

#include <grpcpp/grpcpp.h>

#include <mutex>

#include "chaincode/handler.h"
#include "pb/peer/chaincode_shim.grpc.pb.h"

namespace medledger::chaincode {
namespace {

using protos::ChaincodeMessage;
using Stream = grpc::ServerReaderWriter<ChaincodeMessage, ChaincodeMessage>;

// gRPC allows one writer at a time per stream; transactions finish on several worker threads.
class StreamSink final : public MessageSink {
 public:
  explicit StreamSink(Stream* stream) : stream_(stream) {}
  Status Send(const ChaincodeMessage& message) override {
    std::lock_guard lock(mu_);
    if (!stream_->Write(message)) {
      return MakeError(ErrorKind::kUnavailable, "peer_disconnected", "writing to the peer's stream failed");
    }
    return OkStatus();
  }

 private:
  std::mutex mu_;
  Stream* stream_;
};

class ChaincodeService final : public protos::Chaincode::Service {
 public:
  ChaincodeService(contract::Contract& contract, HandlerOptions options)
      : contract_(contract), options_(std::move(options)) {}

  grpc::Status Connect(grpc::ServerContext* /*context*/, Stream* stream) override {
    StreamSink sink(stream);
    Handler handler(contract_, sink, options_);
    if (Status st = handler.Start(); !st.ok()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, st.error().ToString());
    }
    ChaincodeMessage message;
    while (stream->Read(&message)) {
      if (Status st = handler.Handle(message); !st.ok() && st.error().code == "protocol_violation") {
        handler.Disconnect();
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, st.error().ToString());
      }
    }
    handler.Disconnect();
    return grpc::Status::OK;
  }

 private:
  contract::Contract& contract_;
  HandlerOptions options_;
};

class GrpcChaincodeServer final : public ChaincodeServer {
 public:
  GrpcChaincodeServer(std::unique_ptr<ChaincodeService> service, std::unique_ptr<grpc::Server> server, int port)
      : service_(std::move(service)), server_(std::move(server)), port_(port) {}
  ~GrpcChaincodeServer() override { Shutdown(); }
  int port() const override { return port_; }
  void Wait() override { server_->Wait(); }
  void Shutdown() override {
    std::call_once(shutdown_once_,
                   [this] { server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5)); });
  }

 private:
  std::unique_ptr<ChaincodeService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_;
  std::once_flag shutdown_once_;
};

}  // namespace

Result<std::unique_ptr<ChaincodeServer>> ChaincodeServer::Start(const ServerOptions& options,
                                                                contract::Contract& contract) {
  if (options.chaincode_id.empty()) {
    return MakeError(ErrorKind::kInvalidArgument, "missing_chaincode_id", "CHAINCODE_ID (the package ID) is required");
  }
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (!options.tls_cert.empty() || !options.tls_key.empty()) {
    if (options.tls_cert.empty() || options.tls_key.empty()) {
      return MakeError(ErrorKind::kInvalidArgument, "incomplete_tls", "TLS needs both a certificate and a key");
    }
    grpc::SslServerCredentialsOptions ssl(options.client_ca.empty()
                                              ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                              : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = options.client_ca;
    ssl.pem_key_cert_pairs.push_back({options.tls_key, options.tls_cert});
    creds = grpc::SslServerCredentials(ssl);
  } else {
    creds = grpc::InsecureServerCredentials();
  }
  HandlerOptions handler_options;
  handler_options.chaincode_name = options.chaincode_id;
  handler_options.workers = options.workers_per_stream;
  auto service = std::make_unique<ChaincodeService>(contract, handler_options);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.address, creds, &port);
  builder.RegisterService(service.get());
  // The peer keeps the stream open for the chaincode's lifetime; these keep idle connections healthy.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.SetMaxReceiveMessageSize(100 * 1024 * 1024);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    return MakeError(ErrorKind::kUnavailable, "listen_failed", "cannot listen on " + options.address);
  }
  return std::unique_ptr<ChaincodeServer>(
      std::make_unique<GrpcChaincodeServer>(std::move(service), std::move(server), port));
}

}  // namespace medledger::chaincode
