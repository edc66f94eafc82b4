/* test_vmcs_field.c: chapter 03's VMCS field list and encoding decoder: each field's width
 * and type bits agree with the list it is in (SDM Vol. 3D, B.1-B.4), names are unique. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "vmcs_field.h"

/* Every entry of the list, with the width its group in Appendix B says it has. */
struct expected {
    uint32_t encoding;
    const char *name;
    enum vmcs_field_width width;
};
#define E16(n, e) {e, #n, VMCS_FIELD_WIDTH_U16},
#define E64(n, e) {e, #n, VMCS_FIELD_WIDTH_U64},
#define E32(n, e) {e, #n, VMCS_FIELD_WIDTH_U32},
#define ENAT(n, e) {e, #n, VMCS_FIELD_WIDTH_NATURAL_WIDTH},
static const struct expected list[] = {VMCS_FIELD_LIST(E16, E64, E32, ENAT)};

static void test_list_against_encodings(void)
{
    unsigned n64 = 0;
    for (size_t i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
        struct vmcs_field_bits b;
        CHECK(vmcs_field_decode(list[i].encoding, &b));
        if (b.width != list[i].width || b.high)
            fprintf(stderr, "%s: width %d in a list of width %d\n", list[i].name, b.width,
                    list[i].width);
        CHECK(b.width == list[i].width && !b.high);
        /* Type by name: GUEST_ and HOST_ fields are guest-/host-state (a few exceptions). */
        if (!strncmp(list[i].name, "HOST_", 5))
            CHECK(b.type == VMCS_FIELD_TYPE_HOST);
        if (!strncmp(list[i].name, "GUEST_", 6) && strcmp(list[i].name, "GUEST_PHYSICAL_ADDRESS") &&
            strcmp(list[i].name, "GUEST_LINEAR_ADDRESS"))
            CHECK(b.type == VMCS_FIELD_TYPE_GUEST);
        n64 += list[i].width == VMCS_FIELD_WIDTH_U64;
    }
    /* The table has every 64-bit field twice (the field and its _HIGH half). */
    CHECK(vmcs_field_count == sizeof(list) / sizeof(list[0]) + n64);
}

static void test_table(void)
{
    for (unsigned i = 0; i < vmcs_field_count; i++) {
        const struct vmcs_field_info *f = &vmcs_fields[i];
        size_t len = strlen(f->name);
        bool named_high = len > 5 && !strcmp(f->name + len - 5, "_HIGH");
        CHECK(VMCS_FIELD_ACCESS_HIGH(f->encoding) == named_high);
        if (named_high) {
            /* Its full field comes right before it, one encoding lower. */
            CHECK(i > 0 && vmcs_fields[i - 1].encoding + 1 == f->encoding);
            CHECK(i > 0 && !strncmp(vmcs_fields[i - 1].name, f->name, len - 5));
        }
        for (unsigned j = 0; j < i; j++) {
            CHECK(vmcs_fields[j].encoding != f->encoding);
            CHECK(strcmp(vmcs_fields[j].name, f->name));
        }
        CHECK(!strcmp(vmcs_field_name(f->encoding), f->name));
    }
    CHECK(vmcs_field_name(0x0036) == NULL);
}

/* A few fields checked against the SDM's tables by hand. */
static void test_known_encodings(void)
{
    struct vmcs_field_bits b;
    CHECK(GUEST_RIP == 0x681e && VM_EXIT_REASON == 0x4402 && VM_INSTRUCTION_ERROR == 0x4400);
    CHECK(EXIT_QUALIFICATION == 0x6400 && HOST_TR_SELECTOR == 0x0c0c && EPT_POINTER == 0x201a);
    CHECK(VMCS_LINK_POINTER == 0x2800 && VMCS_LINK_POINTER_HIGH == 0x2801);
    CHECK(PIN_BASED_VM_EXEC_CONTROL == 0x4000 && SECONDARY_VM_EXEC_CONTROL == 0x401e);

    CHECK(vmcs_field_decode(GUEST_RIP, &b) && b.width == VMCS_FIELD_WIDTH_NATURAL_WIDTH &&
          b.type == VMCS_FIELD_TYPE_GUEST && b.index == 15 && !b.high);
    CHECK(vmcs_field_decode(VM_EXIT_REASON, &b) && b.width == VMCS_FIELD_WIDTH_U32 &&
          b.type == VMCS_FIELD_TYPE_READ_ONLY_DATA && b.index == 1);
    CHECK(vmcs_field_decode(TSC_OFFSET_HIGH, &b) && b.width == VMCS_FIELD_WIDTH_U64 &&
          b.type == VMCS_FIELD_TYPE_CONTROL && b.index == 8 && b.high);
    CHECK(vmcs_field_decode(HOST_CS_SELECTOR, &b) && b.width == VMCS_FIELD_WIDTH_U16 &&
          b.type == VMCS_FIELD_TYPE_HOST && b.index == 1);
    /* Reserved bits: 12 and 31:15. */
    CHECK(!vmcs_field_decode(0x00001000, &b));
    CHECK(!vmcs_field_decode(0x00008000, &b));
    CHECK(!vmcs_field_decode(0x80000000u | GUEST_RIP, &b));
    CHECK(!strcmp(vmcs_width_name(VMCS_FIELD_WIDTH_NATURAL_WIDTH), "natural-width"));
    CHECK(!strcmp(vmcs_type_name(VMCS_FIELD_TYPE_READ_ONLY_DATA), "read-only data"));
}

int main(void)
{
    test_list_against_encodings();
    test_table();
    test_known_encodings();
    return CHECK_DONE();
}
