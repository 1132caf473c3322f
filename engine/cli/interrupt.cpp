// InterruptGuard (cli.h): the SIGINT handler of `incsim sweep` and `incsim calibrate`. A signal
// handler may only touch lock-free atomics, so the guard publishes its flag and message in
// process-wide slots that the handler reads.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "cli/cli.h"

namespace incsim::cli {
namespace {

std::atomic<std::atomic<bool>*> interrupt_flag{nullptr};
std::atomic<const char*> interrupt_message{nullptr};
std::atomic<std::size_t> interrupt_length{0};

extern "C" void on_interrupt(int) {
  if (std::atomic<bool>* flag = interrupt_flag.load()) flag->store(true);
  if (const char* message = interrupt_message.load()) {
    const ssize_t ignored = ::write(STDERR_FILENO, message, interrupt_length.load());
    (void)ignored;
  }
}

}  // namespace

struct InterruptGuard::Previous {
  struct sigaction action {};
};

InterruptGuard::InterruptGuard(std::atomic<bool>& flag, const char* message)
    : previous_(new Previous) {
  interrupt_length.store(std::strlen(message));
  interrupt_message.store(message);
  interrupt_flag.store(&flag);
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, &previous_->action);
}

InterruptGuard::~InterruptGuard() {
  sigaction(SIGINT, &previous_->action, nullptr);
  interrupt_flag.store(nullptr);
  interrupt_message.store(nullptr);
  delete previous_;
}

}  // namespace incsim::cli
