// A small structure-aware mutator for protobuf inputs (libprotobuf-mutator is not in Debian): parse the input
// as the target's message, change one field through reflection, serialize. Fabric nests messages inside bytes
// fields (Envelope.payload is a Payload, Payload.data a Transaction, ...); `NestedTypes` names those fields
// so the mutation can descend into them instead of flipping bytes that would no longer parse.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <string>

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace medledger::fuzz {

// Full field name ("common.Envelope.payload") -> the message type its bytes hold.
using NestedTypes = std::map<std::string, const google::protobuf::Message*>;

class ProtoMutator {
 public:
  ProtoMutator(const google::protobuf::Message& prototype, NestedTypes nested)
      : prototype_(prototype), nested_(std::move(nested)) {}

  // The LLVMFuzzerCustomMutator body. Inputs that do not parse, and one mutation in eight, get libFuzzer's
  // byte-level mutation, so malformed encodings stay in play.
  size_t Mutate(uint8_t* data, size_t size, size_t max_size, unsigned int seed) const {
    std::minstd_rand rng(seed);
    std::unique_ptr<google::protobuf::Message> msg(prototype_.New());
    if (rng() % 8 == 0 || !msg->ParseFromArray(data, static_cast<int>(size))) {
      return LLVMFuzzerMutate(data, size, max_size);
    }
    MutateMessage(*msg, rng, 0);
    std::string out;
    if (!msg->SerializeToString(&out) || out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
    std::memcpy(data, out.data(), out.size());
    return out.size();
  }

 private:
  static constexpr int kMaxDepth = 12;

  void MutateMessage(google::protobuf::Message& msg, std::minstd_rand& rng, int depth) const {
    const auto* desc = msg.GetDescriptor();
    if (desc->field_count() == 0 || depth > kMaxDepth) return;
    const auto* field = desc->field(static_cast<int>(rng() % static_cast<unsigned>(desc->field_count())));
    const auto* refl = msg.GetReflection();
    if (field->is_repeated()) {
      int n = refl->FieldSize(msg, field);
      switch (n == 0 ? 0 : rng() % 4) {
        case 0:  // append a default element, then mutate it
          AddDefault(msg, field);
          MutateRepeated(msg, field, refl->FieldSize(msg, field) - 1, rng, depth);
          return;
        case 1: refl->RemoveLast(&msg, field); return;
        case 2:  // duplicate an element (replays, duplicate IDs)
          if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
            refl->AddMessage(&msg, field)->CopyFrom(refl->GetRepeatedMessage(msg, field, static_cast<int>(rng() % n)));
            return;
          }
          [[fallthrough]];
        default: MutateRepeated(msg, field, static_cast<int>(rng() % n), rng, depth); return;
      }
    }
    if (field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      if (rng() % 8 == 0) {
        refl->ClearField(&msg, field);
      } else {
        MutateMessage(*refl->MutableMessage(&msg, field), rng, depth + 1);
      }
      return;
    }
    MutateSingular(msg, field, rng, depth);
  }

  void AddDefault(google::protobuf::Message& msg, const google::protobuf::FieldDescriptor* f) const {
    using FD = google::protobuf::FieldDescriptor;
    const auto* r = msg.GetReflection();
    switch (f->cpp_type()) {
      case FD::CPPTYPE_INT32: r->AddInt32(&msg, f, 0); break;
      case FD::CPPTYPE_INT64: r->AddInt64(&msg, f, 0); break;
      case FD::CPPTYPE_UINT32: r->AddUInt32(&msg, f, 0); break;
      case FD::CPPTYPE_UINT64: r->AddUInt64(&msg, f, 0); break;
      case FD::CPPTYPE_DOUBLE: r->AddDouble(&msg, f, 0); break;
      case FD::CPPTYPE_FLOAT: r->AddFloat(&msg, f, 0); break;
      case FD::CPPTYPE_BOOL: r->AddBool(&msg, f, false); break;
      case FD::CPPTYPE_ENUM: r->AddEnumValue(&msg, f, 0); break;
      case FD::CPPTYPE_STRING: r->AddString(&msg, f, ""); break;
      case FD::CPPTYPE_MESSAGE: r->AddMessage(&msg, f); break;
    }
  }

  void MutateRepeated(google::protobuf::Message& msg, const google::protobuf::FieldDescriptor* f, int i,
                      std::minstd_rand& rng, int depth) const {
    using FD = google::protobuf::FieldDescriptor;
    const auto* r = msg.GetReflection();
    switch (f->cpp_type()) {
      case FD::CPPTYPE_INT32: r->SetRepeatedInt32(&msg, f, i, static_cast<int32_t>(Int(rng))); break;
      case FD::CPPTYPE_INT64: r->SetRepeatedInt64(&msg, f, i, Int(rng)); break;
      case FD::CPPTYPE_UINT32: r->SetRepeatedUInt32(&msg, f, i, static_cast<uint32_t>(Int(rng))); break;
      case FD::CPPTYPE_UINT64: r->SetRepeatedUInt64(&msg, f, i, static_cast<uint64_t>(Int(rng))); break;
      case FD::CPPTYPE_DOUBLE: r->SetRepeatedDouble(&msg, f, i, static_cast<double>(Int(rng))); break;
      case FD::CPPTYPE_FLOAT: r->SetRepeatedFloat(&msg, f, i, static_cast<float>(Int(rng))); break;
      case FD::CPPTYPE_BOOL: r->SetRepeatedBool(&msg, f, i, !r->GetRepeatedBool(msg, f, i)); break;
      case FD::CPPTYPE_ENUM: r->SetRepeatedEnumValue(&msg, f, i, Enum(f, rng)); break;
      case FD::CPPTYPE_STRING:
        r->SetRepeatedString(&msg, f, i, Bytes(f, r->GetRepeatedString(msg, f, i), rng, depth));
        break;
      case FD::CPPTYPE_MESSAGE: MutateMessage(*r->MutableRepeatedMessage(&msg, f, i), rng, depth + 1); break;
    }
  }

  void MutateSingular(google::protobuf::Message& msg, const google::protobuf::FieldDescriptor* f, std::minstd_rand& rng,
                      int depth) const {
    using FD = google::protobuf::FieldDescriptor;
    const auto* r = msg.GetReflection();
    switch (f->cpp_type()) {
      case FD::CPPTYPE_INT32: r->SetInt32(&msg, f, static_cast<int32_t>(Int(rng))); break;
      case FD::CPPTYPE_INT64: r->SetInt64(&msg, f, Int(rng)); break;
      case FD::CPPTYPE_UINT32: r->SetUInt32(&msg, f, static_cast<uint32_t>(Int(rng))); break;
      case FD::CPPTYPE_UINT64: r->SetUInt64(&msg, f, static_cast<uint64_t>(Int(rng))); break;
      case FD::CPPTYPE_DOUBLE: r->SetDouble(&msg, f, static_cast<double>(Int(rng))); break;
      case FD::CPPTYPE_FLOAT: r->SetFloat(&msg, f, static_cast<float>(Int(rng))); break;
      case FD::CPPTYPE_BOOL: r->SetBool(&msg, f, !r->GetBool(msg, f)); break;
      case FD::CPPTYPE_ENUM: r->SetEnumValue(&msg, f, Enum(f, rng)); break;
      case FD::CPPTYPE_STRING: r->SetString(&msg, f, Bytes(f, r->GetString(msg, f), rng, depth)); break;
      case FD::CPPTYPE_MESSAGE: break;  // handled by MutateMessage
    }
  }

  // Boundary values most of the time, since that is where parsers break; small numbers otherwise.
  static int64_t Int(std::minstd_rand& rng) {
    static constexpr int64_t kSpecial[] = {0,
                                           1,
                                           -1,
                                           2,
                                           127,
                                           128,
                                           255,
                                           256,
                                           65535,
                                           65536,
                                           std::numeric_limits<int32_t>::max(),
                                           std::numeric_limits<int32_t>::min(),
                                           std::numeric_limits<int64_t>::max(),
                                           std::numeric_limits<int64_t>::min()};
    if (rng() % 2 == 0) return kSpecial[rng() % std::size(kSpecial)];
    return static_cast<int64_t>(rng() % 64);
  }

  static int Enum(const google::protobuf::FieldDescriptor* f, std::minstd_rand& rng) {
    const auto* e = f->enum_type();
    if (rng() % 4 == 0 || e->value_count() == 0) return static_cast<int>(Int(rng));  // proto3 enums are open
    return e->value(static_cast<int>(rng() % static_cast<unsigned>(e->value_count())))->number();
  }

  std::string Bytes(const google::protobuf::FieldDescriptor* f, std::string value, std::minstd_rand& rng,
                    int depth) const {
    auto nested = nested_.find(f->full_name());
    if (nested != nested_.end() && rng() % 4 != 0) {
      std::unique_ptr<google::protobuf::Message> inner(nested->second->New());
      if (inner->ParseFromString(value)) {
        MutateMessage(*inner, rng, depth + 1);
        std::string out;
        if (inner->SerializeToString(&out)) return out;
      }
    }
    if (rng() % 16 == 0) return {};
    size_t used = value.size();
    value.resize(used * 2 + 16);
    value.resize(LLVMFuzzerMutate(reinterpret_cast<uint8_t*>(value.data()), used, value.size()));
    return value;
  }

  const google::protobuf::Message& prototype_;
  NestedTypes nested_;
};

}  // namespace medledger::fuzz
