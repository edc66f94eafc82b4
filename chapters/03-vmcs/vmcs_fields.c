/* vmcs_fields.c: the table of every VMCS field with its name (from vmcs_field.h's list),
 * and the decoder of an encoding's width, type and index bits (SDM Vol. 3C, 24.11.2). */
#include "vmcs_field.h"

#include <stddef.h>

#include "exercise.h"

#define INFO_ONE(name, enc) {enc, #name},
#define INFO_TWO(name, enc) {enc, #name}, {enc + 1, #name "_HIGH"},
const struct vmcs_field_info vmcs_fields[] = {
    VMCS_FIELD_LIST(INFO_ONE, INFO_TWO, INFO_ONE, INFO_ONE)
};
const unsigned vmcs_field_count = sizeof(vmcs_fields) / sizeof(vmcs_fields[0]);

const char *vmcs_field_name(uint32_t encoding)
{
    for (unsigned i = 0; i < vmcs_field_count; i++)
        if (vmcs_fields[i].encoding == encoding)
            return vmcs_fields[i].name;
    return NULL;
}

bool vmcs_field_decode(uint32_t encoding, struct vmcs_field_bits *bits)
{
    *bits = (struct vmcs_field_bits){0};
    if (encoding & VMCS_FIELD_RESERVED_BITS)      /* bit 12 and bits 31:15 */
        return false;
    // BEGIN EXERCISE 03-2: take a VMCS field encoding apart
    // Instruction: Fill bits->high (bit 0), bits->index (bits 9:1), bits->type (bits 11:10)
    //   and bits->width (bits 14:13) from the encoding.
    // Hint: SDM Vol. 3C, 24.11.2, Table 24-17; the VMCS_FIELD_* macros in vmcs_field.h.
    bits->high = VMCS_FIELD_ACCESS_HIGH(encoding);
    bits->index = VMCS_FIELD_INDEX(encoding);
    bits->type = (enum vmcs_field_type)VMCS_FIELD_TYPE(encoding);
    bits->width = (enum vmcs_field_width)VMCS_FIELD_WIDTH(encoding);
    // END EXERCISE 03-2
    return true;
}

const char *vmcs_width_name(enum vmcs_field_width width)
{
    static const char *const names[] = {"16-bit", "64-bit", "32-bit", "natural-width"};
    return names[width & 3];
}

const char *vmcs_type_name(enum vmcs_field_type type)
{
    static const char *const names[] = {"control", "read-only data", "guest-state", "host-state"};
    return names[type & 3];
}
