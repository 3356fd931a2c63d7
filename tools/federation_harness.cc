// Starting, crashing and stopping a local federation of real processes.
#include "tools/federation_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "certs/tls.h"

extern char** environ;

namespace crossclear::tools {
namespace fs = std::filesystem;

std::string ExecutableDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : exe.parent_path().string();
}

absl::StatusOr<int> FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::UnavailableError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return absl::UnavailableError("cannot find a free port on 127.0.0.1");
  }
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

std::string Federation::LogTail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

absl::Status Federation::MakeCerts(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/bin/bash", bin_dir_ + "/make-pki.sh", pki_dir_};
  argv.insert(argv.end(), args.begin(), args.end());
  Proc proc;
  proc.log = work_dir_ + "/pki.log";
  if (auto s = Spawn("make-pki", argv, proc); !s.ok()) return s;
  int status = 0;
  ::waitpid(proc.pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError("make-pki.sh " + absl::StrJoin(args, " ") + " failed:\n" +
                               LogTail(proc.log));
  }
  return absl::OkStatus();
}

absl::Status Federation::Spawn(const std::string& name, const std::vector<std::string>& argv,
                               Proc& proc) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, proc.log.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int rc = posix_spawn(&proc.pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return absl::UnavailableError(absl::StrCat("cannot start ", name, ": ", argv[0]));
  return absl::OkStatus();
}

absl::Status Federation::WaitReady(const std::string& name, Proc& proc) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until) {
    if (fs::exists(proc.ready)) return absl::OkStatus();
    int status = 0;
    if (::waitpid(proc.pid, &status, WNOHANG) == proc.pid) {
      proc.pid = 0;
      return absl::UnavailableError(absl::StrCat(name, " exited before it was ready (status ",
                                                 status, "):\n", LogTail(proc.log)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(name + " not ready after 60 s:\n" + LogTail(proc.log));
}

absl::Status Federation::SpawnHub() {
  std::vector<std::string> argv = {bin_dir_ + "/crossclear-hub", "--db", work_dir_ + "/hub-db",
                                   "--pki", pki_dir_, "--listen",
                                   absl::StrCat("127.0.0.1:", hub_.port), "--ready-file",
                                   hub_.ready, "--deadline-ms",
                                   absl::StrCat(options_.deadline_ms), "--checkpoint-interval-ms",
                                   absl::StrCat(options_.checkpoint_interval_ms)};
  for (const auto& [region, proc] : nodes_) {
    argv.push_back("--route");
    argv.push_back(absl::StrCat(region, "=127.0.0.1:", proc.port));
  }
  if (options_.test_clock) argv.push_back("--test-clock");
  argv.insert(argv.end(), options_.party_flags.begin(), options_.party_flags.end());
  fs::remove(hub_.ready);
  if (auto s = Spawn("hub", argv, hub_); !s.ok()) return s;
  return WaitReady("hub", hub_);
}

absl::Status Federation::StartNode(const std::string& region,
                                   const std::vector<std::string>& extra_flags, bool wait_ready) {
  auto it = nodes_.find(region);
  if (it == nodes_.end()) return absl::NotFoundError("no node for region " + region);
  Proc& proc = it->second;
  if (proc.pid > 0) return absl::FailedPreconditionError("node " + region + " is running");
  std::vector<std::string> argv = {bin_dir_ + "/crossclear-node", "--region", region, "--hub",
                                   HubAddress(), "--db", work_dir_ + "/node-" + region + "-db",
                                   "--pki", pki_dir_, "--listen",
                                   absl::StrCat("127.0.0.1:", proc.port), "--ready-file",
                                   proc.ready, "--deadline-ms",
                                   absl::StrCat(options_.deadline_ms), "--resolve-interval-ms",
                                   absl::StrCat(options_.resolve_interval_ms),
                                   "--checkpoint-interval-ms",
                                   absl::StrCat(options_.checkpoint_interval_ms)};
  if (!options_.data_file.empty()) {
    argv.push_back("--data");
    argv.push_back(options_.data_file);
  }
  if (options_.test_clock) argv.push_back("--test-clock");
  argv.insert(argv.end(), options_.party_flags.begin(), options_.party_flags.end());
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  fs::remove(proc.ready);
  // Channels to the node's previous process are stale (their connection was cut).
  DropChannelsTo(NodeAddress(region));
  if (auto s = Spawn("node " + region, argv, proc); !s.ok()) return s;
  if (!wait_ready) return absl::OkStatus();
  return WaitReady("node " + region, proc);
}

absl::Status Federation::KillNode(const std::string& region) {
  auto it = nodes_.find(region);
  if (it == nodes_.end() || it->second.pid <= 0) {
    return absl::NotFoundError("no running node for region " + region);
  }
  ::kill(it->second.pid, SIGKILL);
  ::waitpid(it->second.pid, nullptr, 0);
  it->second.pid = 0;
  return absl::OkStatus();
}

absl::Status Federation::SignalNode(const std::string& region, int signal) {
  auto it = nodes_.find(region);
  if (it == nodes_.end() || it->second.pid <= 0) {
    return absl::NotFoundError("no running node for region " + region);
  }
  if (::kill(it->second.pid, signal) != 0) {
    return absl::InternalError("cannot signal the node of region " + region);
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Federation::WaitNodeExit(const std::string& region, int timeout_ms) {
  auto it = nodes_.find(region);
  if (it == nodes_.end() || it->second.pid <= 0) {
    return absl::NotFoundError("no running node for region " + region);
  }
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < until) {
    int status = 0;
    if (::waitpid(it->second.pid, &status, WNOHANG) == it->second.pid) {
      it->second.pid = 0;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::DeadlineExceededError("node " + region + " still running");
}

void Federation::DropChannelsTo(const std::string& address) {
  const std::string suffix = "@" + address;
  for (auto it = channels_.begin(); it != channels_.end();) {
    bool stale = it->first.size() >= suffix.size() &&
                 it->first.compare(it->first.size() - suffix.size(), suffix.size(), suffix) == 0;
    it = stale ? channels_.erase(it) : std::next(it);
  }
}

absl::Status Federation::StartHub() {
  if (hub_.pid > 0) return absl::FailedPreconditionError("the hub is running");
  DropChannelsTo(HubAddress());
  return SpawnHub();
}

absl::Status Federation::KillHub() {
  if (hub_.pid <= 0) return absl::NotFoundError("the hub is not running");
  ::kill(hub_.pid, SIGKILL);
  ::waitpid(hub_.pid, nullptr, 0);
  hub_.pid = 0;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Federation>> Federation::Start(const FederationOptions& options) {
  std::unique_ptr<Federation> f(new Federation());
  f->options_ = options;
  f->bin_dir_ = options.bin_dir.empty() ? ExecutableDir() : options.bin_dir;
  if (options.work_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/crossclear-fed-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data())) return absl::UnavailableError("cannot make a temporary folder");
    f->work_dir_ = buf.data();
    f->owns_work_dir_ = !options.keep_work_dir;
  } else {
    f->work_dir_ = options.work_dir;
    fs::create_directories(f->work_dir_);
  }
  f->pki_dir_ = f->work_dir_ + "/pki";
  fs::create_directories(f->pki_dir_);
  std::vector<std::string> pki = {"--hub", "--operator", "--auditor"};
  for (const auto& r : options.regions) {
    pki.push_back("--region");
    pki.push_back(r);
  }
  for (const auto& i : options.institutions) {
    pki.push_back("--institution");
    pki.push_back(i);
  }
  if (auto s = f->MakeCerts(pki); !s.ok()) return s;
  auto hub_port = FreePort();
  if (!hub_port.ok()) return hub_port.status();
  f->hub_.port = *hub_port;
  f->hub_.log = f->work_dir_ + "/hub.log";
  f->hub_.ready = f->work_dir_ + "/hub.ready";
  for (const auto& r : options.regions) {
    auto port = FreePort();
    if (!port.ok()) return port.status();
    Proc& p = f->nodes_[r];
    p.port = *port;
    p.log = f->work_dir_ + "/node-" + r + ".log";
    p.ready = f->work_dir_ + "/node-" + r + ".ready";
  }
  if (auto s = f->SpawnHub(); !s.ok()) return s;
  for (const auto& r : options.regions) {
    if (auto s = f->StartNode(r); !s.ok()) return s;
  }
  return f;
}

namespace {

// Waits up to 10 s for `pid` (sent SIGTERM) to exit, then kills it.
void StopWait(int pid) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

Federation::~Federation() {
  channels_.clear();
  // The hub stops first, while the nodes still run: its last checkpoint is cosigned by them.
  // Then the nodes, each signing its own last checkpoint.
  std::vector<int> nodes;
  for (auto& [_, p] : nodes_) {
    if (p.pid > 0) nodes.push_back(p.pid);
  }
  for (int pid : nodes) ::kill(pid, SIGCONT);  // a paused node must answer and stop
  if (hub_.pid > 0) {
    ::kill(hub_.pid, SIGTERM);
    StopWait(hub_.pid);
  }
  for (int pid : nodes) ::kill(pid, SIGTERM);
  for (int pid : nodes) StopWait(pid);
  if (owns_work_dir_) {
    std::error_code ec;
    fs::remove_all(work_dir_, ec);
  }
}

std::string Federation::NodeAddress(const std::string& region) const {
  auto it = nodes_.find(region);
  return it == nodes_.end() ? "" : absl::StrCat("127.0.0.1:", it->second.port);
}

std::string Federation::HubAddress() const { return absl::StrCat("127.0.0.1:", hub_.port); }

std::shared_ptr<grpc::Channel> Federation::ChannelAs(const std::string& name,
                                                     const std::string& target) {
  std::string key = name + "@" + target;
  auto it = channels_.find(key);
  if (it != channels_.end()) return it->second;
  // We started whatever serves at `target`: the channel expects that party's certificate.
  std::optional<certs::Identity> server;
  if (target == HubAddress()) server = certs::Identity{certs::Role::kHub, ""};
  for (const auto& [region, node] : nodes_) {
    if (target == NodeAddress(region)) server = certs::Identity{certs::Role::kRegion, region};
  }
  if (!server) return nullptr;
  auto creds = certs::ChannelCredentials(certs::ForRole(pki_dir_, name));
  if (!creds.ok()) return nullptr;
  auto channel = certs::MakeChannel(target, *creds, *server);
  channels_[key] = channel;
  return channel;
}

std::shared_ptr<grpc::Channel> Federation::HospitalChannel(const std::string& institution,
                                                           const std::string& region) {
  std::string name = "institution-" + institution;
  if (!fs::exists(pki_dir_ + "/" + name + ".pem")) {
    if (!MakeCerts({"--institution", institution}).ok()) return nullptr;
  }
  return ChannelAs(name, NodeAddress(region));
}

std::shared_ptr<grpc::Channel> Federation::RegionChannel(const std::string& region) {
  return ChannelAs("region-" + region, NodeAddress(region));
}

std::shared_ptr<grpc::Channel> Federation::OperatorChannel() {
  return ChannelAs("operator", HubAddress());
}

std::shared_ptr<grpc::Channel> Federation::AuditorChannel() {
  return ChannelAs("auditor", HubAddress());
}

}  // namespace crossclear::tools
