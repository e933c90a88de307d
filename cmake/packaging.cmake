# Packaging: `cpack -G DEB` in a build tree makes ipclab_VERSION_ARCH.deb
# with the binary, the companion libraries, the manual pages and the bash
# completion, its dependencies found by dpkg-shlibdeps; `cmake --build build
# --target uninstall` removes what `cmake --install build` installed.
set(CPACK_PACKAGE_NAME ipclab)
set(CPACK_PACKAGE_VENDOR "the ipclab authors")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "see with your own eyes how Unix processes, signals, mappings and allocators behave")
set(CPACK_PACKAGE_DESCRIPTION
    "One ipclab binary with small, exact experiments (shmstr, race, pool, iotrace, mallocprobe, libwatch) that report what the kernel and the C library did on the machine they run on.")
set(CPACK_RESOURCE_FILE_LICENSE "${CMAKE_SOURCE_DIR}/LICENSE")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "ipclab maintainers <ipclab@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# iotrace runs strace in no case; help runs man; tests are not shipped
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "man-db")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "strace, bash-completion")
include(CPack)

# The list of what an install put where, for uninstall.  CMake's own
# install_manifest.txt is rewritten by every install, cpack's staging
# included (whose paths would then name /usr's files): this list is written
# only by installs to the real tree, with DESTDIR in every path.  Runs last,
# so CMAKE_INSTALL_MANIFEST_FILES is complete.
install(CODE "set(ipclab_binary_dir \"${CMAKE_BINARY_DIR}\")")
install(CODE [[
  if(NOT "$ENV{DESTDIR}" MATCHES "/_CPack_Packages/")
    list(TRANSFORM CMAKE_INSTALL_MANIFEST_FILES PREPEND "$ENV{DESTDIR}")
    list(JOIN CMAKE_INSTALL_MANIFEST_FILES "\n" ipclab_files)
    file(WRITE "${ipclab_binary_dir}/ipclab_installed.txt" "${ipclab_files}\n")
  endif()
]])
configure_file("${CMAKE_CURRENT_LIST_DIR}/uninstall.cmake.in"
               "${CMAKE_BINARY_DIR}/uninstall.cmake" @ONLY)
add_custom_target(uninstall COMMAND "${CMAKE_COMMAND}" -P "${CMAKE_BINARY_DIR}/uninstall.cmake"
                  COMMENT "Removing what cmake --install installed")
