# medledger_ledger_storage: the embedded ledger's storage layer on its own (env, block store, state db),
# for its tests and benchmark. The product library medledger_ledger compiles the same files along with
# the rest of the ledger, which also needs the identity and contract modules.
if(NOT TARGET medledger_ledger_storage)
  file(GLOB ledger_storage_srcs CONFIGURE_DEPENDS
       ${PROJECT_SOURCE_DIR}/src/ledger/embedded/env*.cpp
       ${PROJECT_SOURCE_DIR}/src/ledger/embedded/block_store*.cpp
       ${PROJECT_SOURCE_DIR}/src/ledger/embedded/state_db*.cpp
       ${PROJECT_SOURCE_DIR}/src/ledger/embedded/crc32c*.cpp)
  add_library(medledger_ledger_storage STATIC ${ledger_storage_srcs})
  target_include_directories(medledger_ledger_storage PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(medledger_ledger_storage PUBLIC medledger_common RocksDB::rocksdb Threads::Threads)
endif()
