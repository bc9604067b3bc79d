// Symbol visibility: liblowbit.so hides everything by default; LOWBIT_API marks the public API.
#pragma once

#if defined(LOWBIT_BUILDING_LIBRARY)
#define LOWBIT_API __attribute__((visibility("default")))
#else
#define LOWBIT_API
#endif
