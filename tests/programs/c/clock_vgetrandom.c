/* clock_vgetrandom: calls the vDSO's getrandom entry directly, as glibc 2.41
 * and later do: first the query for the opaque state's size (length ~0),
 * then a plain request for 16 bytes without a state. Prints
 *   query R      0 when the vDSO answered, or -errno
 *   bytes R      the request's result (16)
 * or `no vgetrandom` on kernels whose vDSO has none. */
#include "fi_test.h"
#include "clock_vdso.h"

typedef long (*vgetrandom_fn)(void *buf, size_t len, unsigned flags, void *state,
                              size_t state_len);

int main(void) {
    vgetrandom_fn vgetrandom = (vgetrandom_fn)vdso_symbol("__vdso_getrandom");
    if (!vgetrandom) {
        say("no vgetrandom");
        return 0;
    }
    /* struct vgetrandom_opaque_params: four u32 and reserved words. */
    unsigned params[16] = {0};
    say("query %ld", vgetrandom(NULL, 0, 0, params, ~0UL));
    unsigned char buf[16];
    say("bytes %ld", vgetrandom(buf, sizeof buf, 0, NULL, 0));
    return 0;
}
