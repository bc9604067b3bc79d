// Stand-ins for the NCCL backend and the CUDA device choice of core/dist/backends.h in a build
// without CUDA: NCCL is not built, and asking for either says so.
#include "core/dist/backends.h"
#include "core/error.h"

namespace lowbit::dist {

void use_cuda_device(int) { LOWBIT_FAIL("dist: a CUDA device was requested but lowbit was built without CUDA"); }

bool nccl_built() { return false; }
int64_t nccl_id_bytes() { return 0; }

std::shared_ptr<Communicator> make_nccl_communicator(int, int, int, const std::function<void(void*, int64_t)>&) {
  LOWBIT_FAIL("dist: the nccl backend is not available: lowbit was built without CUDA (NCCL needs a CUDA build)");
}

}  // namespace lowbit::dist
