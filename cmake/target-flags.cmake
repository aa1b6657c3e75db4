# Flags for all target (aarch64 freestanding) code. See DEVELOPERS brief:
# no exceptions, no RTTI, no hidden allocation, no libc underneath.
set(KEEL_TARGET_COMMON
  -ffreestanding -fno-builtin-printf -fno-stack-protector -fno-pic -fno-pie
  -fno-omit-frame-pointer -ffunction-sections -fdata-sections
  -mstrict-align -mno-outline-atomics -Wall -Wextra)
add_compile_options(${KEEL_TARGET_COMMON})
add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions>
                    $<$<COMPILE_LANGUAGE:CXX>:-fno-rtti>
                    $<$<COMPILE_LANGUAGE:CXX>:-fno-use-cxa-atexit>
                    $<$<COMPILE_LANGUAGE:CXX>:-fno-threadsafe-statics>)
add_link_options(-nostdlib -static -no-pie -Wl,--gc-sections -Wl,--build-id=none -Wl,--no-warn-rwx-segments)

# Debian's arm64 libfdt.a (extracted by tools/setup.sh); headers are the host's.
set(KEEL_TARGET_LIBFDT ${KEEL_CACHE}/arm64/usr/lib/aarch64-linux-gnu/libfdt.a)
if(NOT EXISTS ${KEEL_TARGET_LIBFDT})
  message(FATAL_ERROR "arm64 libfdt.a not found at ${KEEL_TARGET_LIBFDT}: run tools/setup.sh")
endif()
add_library(fdt_target STATIC IMPORTED GLOBAL)
set_target_properties(fdt_target PROPERTIES IMPORTED_LOCATION ${KEEL_TARGET_LIBFDT})

# Turn an ELF into a flat arm64 Image next to the other bootable images.
function(keel_image target)
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${CMAKE_OBJCOPY} -O binary $<TARGET_FILE:${target}> ${KEEL_IMAGE_DIR}/${target}.bin
    COMMAND ${CMAKE_COMMAND} -E copy $<TARGET_FILE:${target}> ${KEEL_IMAGE_DIR}/${target}.elf
    COMMENT "Image ${KEEL_IMAGE_DIR}/${target}.bin")
endfunction()
