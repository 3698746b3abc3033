# lv_grpc_proto_library(<target> <proto>...): a static library of the protobuf messages and gRPC
# stubs generated from <proto> files into the current build folder; include the generated headers
# by the proto's path ("a/b/c.pb.h", "a/b/c.grpc.pb.h").
function(lv_grpc_proto_library target)
  add_library(${target} STATIC ${ARGN})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf gRPC::grpc++)
  target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_BINARY_DIR})
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  protobuf_generate(TARGET ${target} LANGUAGE cpp)
  protobuf_generate(TARGET ${target} LANGUAGE grpc
                    GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
                    PLUGIN protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
endfunction()
