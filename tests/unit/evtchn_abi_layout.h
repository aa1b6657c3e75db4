/* The guest-visible layouts the event-channel core relies on, listed once for
 * both languages: evtchn_abi_layout.c evaluates the list as C with the real
 * <xen/...> headers (Arm layout), evtchn_abi_layout_test.cpp evaluates it as
 * C++ with Keel's views (VCPU_INFO, SHARED_INFO) and the same op structs, and
 * compares the two entry by entry. X(label, value). */
#ifndef KEEL_EVTCHN_ABI_LAYOUT_H
#define KEEL_EVTCHN_ABI_LAYOUT_H

#define KEEL_EVTCHN_ABI_LAYOUT(X, VCPU_INFO, SHARED_INFO)                                         \
    X("vcpu_info size", sizeof(VCPU_INFO))                                                        \
    X("vcpu_info.evtchn_upcall_pending", offsetof(VCPU_INFO, evtchn_upcall_pending))              \
    X("vcpu_info.pad0", offsetof(VCPU_INFO, pad0))                                                \
    X("vcpu_info.evtchn_pending_sel", offsetof(VCPU_INFO, evtchn_pending_sel))                    \
    X("vcpu_info.time", offsetof(VCPU_INFO, time))                                                \
    X("vcpu_time_info size", sizeof(struct vcpu_time_info))                                       \
    X("shared_info size", sizeof(SHARED_INFO))                                                    \
    X("shared_info.vcpu_info", offsetof(SHARED_INFO, vcpu_info))                                  \
    X("shared_info.evtchn_pending", offsetof(SHARED_INFO, evtchn_pending))                        \
    X("shared_info.evtchn_mask", offsetof(SHARED_INFO, evtchn_mask))                              \
    X("shared_info.wc_version", offsetof(SHARED_INFO, wc_version))                                \
    X("shared_info.wc_sec", offsetof(SHARED_INFO, wc_sec))                                        \
    X("shared_info.wc_nsec", offsetof(SHARED_INFO, wc_nsec))                                      \
    X("shared_info.wc_sec_hi", offsetof(SHARED_INFO, wc_sec_hi))                                  \
    X("evtchn_alloc_unbound size", sizeof(struct evtchn_alloc_unbound))                           \
    X("evtchn_alloc_unbound.dom", offsetof(struct evtchn_alloc_unbound, dom))                     \
    X("evtchn_alloc_unbound.remote_dom", offsetof(struct evtchn_alloc_unbound, remote_dom))       \
    X("evtchn_alloc_unbound.port", offsetof(struct evtchn_alloc_unbound, port))                   \
    X("evtchn_bind_interdomain size", sizeof(struct evtchn_bind_interdomain))                     \
    X("evtchn_bind_interdomain.remote_dom", offsetof(struct evtchn_bind_interdomain, remote_dom)) \
    X("evtchn_bind_interdomain.remote_port", offsetof(struct evtchn_bind_interdomain, remote_port)) \
    X("evtchn_bind_interdomain.local_port", offsetof(struct evtchn_bind_interdomain, local_port)) \
    X("evtchn_bind_virq size", sizeof(struct evtchn_bind_virq))                                   \
    X("evtchn_bind_virq.virq", offsetof(struct evtchn_bind_virq, virq))                           \
    X("evtchn_bind_virq.vcpu", offsetof(struct evtchn_bind_virq, vcpu))                           \
    X("evtchn_bind_virq.port", offsetof(struct evtchn_bind_virq, port))                           \
    X("evtchn_bind_pirq size", sizeof(struct evtchn_bind_pirq))                                   \
    X("evtchn_bind_ipi size", sizeof(struct evtchn_bind_ipi))                                     \
    X("evtchn_bind_ipi.vcpu", offsetof(struct evtchn_bind_ipi, vcpu))                             \
    X("evtchn_bind_ipi.port", offsetof(struct evtchn_bind_ipi, port))                             \
    X("evtchn_close size", sizeof(struct evtchn_close))                                           \
    X("evtchn_send size", sizeof(struct evtchn_send))                                             \
    X("evtchn_status size", sizeof(struct evtchn_status))                                         \
    X("evtchn_status.dom", offsetof(struct evtchn_status, dom))                                   \
    X("evtchn_status.port", offsetof(struct evtchn_status, port))                                 \
    X("evtchn_status.status", offsetof(struct evtchn_status, status))                             \
    X("evtchn_status.vcpu", offsetof(struct evtchn_status, vcpu))                                 \
    X("evtchn_status.u", offsetof(struct evtchn_status, u))                                       \
    X("evtchn_status.u.unbound.dom", offsetof(struct evtchn_status, u.unbound.dom))               \
    X("evtchn_status.u.interdomain.dom", offsetof(struct evtchn_status, u.interdomain.dom))       \
    X("evtchn_status.u.interdomain.port", offsetof(struct evtchn_status, u.interdomain.port))     \
    X("evtchn_status.u.virq", offsetof(struct evtchn_status, u.virq))                             \
    X("evtchn_bind_vcpu size", sizeof(struct evtchn_bind_vcpu))                                   \
    X("evtchn_bind_vcpu.port", offsetof(struct evtchn_bind_vcpu, port))                           \
    X("evtchn_bind_vcpu.vcpu", offsetof(struct evtchn_bind_vcpu, vcpu))                           \
    X("evtchn_unmask size", sizeof(struct evtchn_unmask))                                         \
    X("evtchn_reset size", sizeof(struct evtchn_reset))                                           \
    X("evtchn_set_priority size", sizeof(struct evtchn_set_priority))                             \
    X("evtchn_set_priority.priority", offsetof(struct evtchn_set_priority, priority))             \
    X("vcpu_register_vcpu_info size", sizeof(struct vcpu_register_vcpu_info))                     \
    X("vcpu_register_vcpu_info.mfn", offsetof(struct vcpu_register_vcpu_info, mfn))               \
    X("vcpu_register_vcpu_info.offset", offsetof(struct vcpu_register_vcpu_info, offset))         \
    X("NR_VIRQS", NR_VIRQS)                                                                       \
    X("DOMID_SELF", DOMID_SELF)                                                                   \
    X("EVTCHN_2L_NR_CHANNELS (Arm)", sizeof(XEN_ULONG) * sizeof(XEN_ULONG) * 64)

struct keel_layout_entry {
    const char *label;
    unsigned long value;
};

#endif
