# Warnings as errors for Mezzo's own code. Generated code (protobuf) opts out
# with mezzo_relax_warnings().
function(mezzo_strict_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter
                                           -Wnon-virtual-dtor -Wimplicit-fallthrough
                                           # deprecated Mesos wire fields (Resource.role, FrameworkInfo.role) are
                                           # part of the contract and must still be read and written
                                           -Wno-deprecated-declarations)
endfunction()

function(mezzo_relax_warnings target)
  target_compile_options(${target} PRIVATE -w)
endfunction()
