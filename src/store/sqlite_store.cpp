// The SQLite registry store: one file in the master's work dir holding a
// snapshot row and an append-only table of operation records (serialized
// protobuf). WAL journal with synchronous=FULL: an append that returned OK is
// on disk. compact() replaces snapshot and log in one transaction.
#include <sqlite3.h>

#include <filesystem>

#include "store/registry.hpp"

namespace mezzo::store {

namespace {

class SqliteRegistryStore final : public RegistryStore {
 public:
  explicit SqliteRegistryStore(sqlite3* db) : db_(db) {}
  ~SqliteRegistryStore() override { sqlite3_close(db_); }

  Status initialize() {
    return execute(
        "PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=FULL;"
        "CREATE TABLE IF NOT EXISTS snapshot (id INTEGER PRIMARY KEY CHECK (id = 1), data BLOB NOT NULL);"
        "CREATE TABLE IF NOT EXISTS operations (seq INTEGER PRIMARY KEY AUTOINCREMENT, data BLOB NOT NULL);");
  }

  Result<RegistryState> recover() override {
    internal::RegistrySnapshot snapshot;
    Status read = forEachBlob("SELECT data FROM snapshot WHERE id = 1", [&](std::string_view blob) {
      return snapshot.ParseFromArray(blob.data(), static_cast<int>(blob.size()))
                 ? Status::ok()
                 : Status::internal("Registry snapshot is corrupt");
    });
    if (!read) return read;
    auto state = RegistryState::fromSnapshot(snapshot);
    if (!state) return state.status();
    logLength_ = 0;
    read = forEachBlob("SELECT data FROM operations ORDER BY seq", [&](std::string_view blob) {
      internal::RegistryOperation operation;
      if (!operation.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) {
        return Status::internal("Registry operation record is corrupt");
      }
      ++logLength_;
      Status applied = state->apply(operation);
      return applied ? Status::ok() : Status::internal("Registry log does not replay: " + applied.message());
    });
    if (!read) return read;
    return state;
  }

  Status append(const internal::RegistryOperation& operation) override {
    Status status = insertBlob("INSERT INTO operations (data) VALUES (?)", operation.SerializeAsString());
    if (status) ++logLength_;
    return status;
  }

  Status compact(const RegistryState& state) override {
    Status status = execute("BEGIN IMMEDIATE");
    if (status) status = insertBlob("INSERT OR REPLACE INTO snapshot (id, data) VALUES (1, ?)", state.toSnapshot().SerializeAsString());
    if (status) status = execute("DELETE FROM operations");
    if (status) status = execute("COMMIT");
    if (!status) {
      execute("ROLLBACK");
      return status;
    }
    logLength_ = 0;
    return Status::ok();
  }

  size_t logLength() const override { return logLength_; }
  std::string name() const override { return "sqlite"; }

 private:
  Status error(const std::string& what) const {
    return Status::ioError("SQLite registry: " + what + ": " + sqlite3_errmsg(db_));
  }

  Status execute(const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message != nullptr ? message : "unknown error";
      sqlite3_free(message);
      return Status::ioError("SQLite registry: " + text);
    }
    return Status::ok();
  }

  Status insertBlob(const char* sql, const std::string& blob) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr) != SQLITE_OK) return error("prepare");
    sqlite3_bind_blob(statement, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
    int rc = sqlite3_step(statement);
    sqlite3_finalize(statement);
    return rc == SQLITE_DONE ? Status::ok() : error("write");
  }

  template <typename Visit>
  Status forEachBlob(const char* sql, Visit visit) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr) != SQLITE_OK) return error("prepare");
    Status status;
    int rc = SQLITE_ROW;
    while (status && (rc = sqlite3_step(statement)) == SQLITE_ROW) {
      const void* data = sqlite3_column_blob(statement, 0);
      int size = sqlite3_column_bytes(statement, 0);
      status = visit(std::string_view(static_cast<const char*>(data), static_cast<size_t>(size)));
    }
    sqlite3_finalize(statement);
    if (!status) return status;
    return rc == SQLITE_DONE ? Status::ok() : error("read");
  }

  sqlite3* db_;
  size_t logLength_ = 0;
};

}  // namespace

Result<std::unique_ptr<RegistryStore>> openSqliteRegistryStore(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) == 0 && !ec) {
    return Status::internal("Registry '" + path +
                            "' is an empty (0-byte) file: it was truncated or lost its contents; restore it from a "
                            "backup, or remove it to start with an empty registry");
  }
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status::ioError("Cannot open registry '" + path + "': " + message);
  }
  auto store = std::make_unique<SqliteRegistryStore>(db);
  Status initialized = store->initialize();
  if (!initialized) return initialized;
  return std::unique_ptr<RegistryStore>(std::move(store));
}

}  // namespace mezzo::store
