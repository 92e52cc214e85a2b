# src/monitoring: the match engine (feeds × registry), its unit tests and its benchmark.
# Included from the top-level CMakeLists.txt; paths are relative to the project root.

add_library(doudi_monitoring_engine STATIC src/monitoring/match_engine.cc src/monitoring/match_index.cc
            src/monitoring/match_blocks.cc src/monitoring/match_rows.cc)
target_link_libraries(doudi_monitoring_engine PUBLIC doudi_common Threads::Threads)

# Unit tests: their own binary, registered with CTest (make unit).
add_executable(monitoring_engine_tests src/monitoring/match_engine_test.cc)
target_link_libraries(monitoring_engine_tests PRIVATE doudi_monitoring_engine GTest::gtest_main)
gtest_discover_tests(monitoring_engine_tests DISCOVERY_MODE PRE_TEST)

# Benchmark (bench/monitoring/run.sh): data generator and the engine's driver.
add_executable(bench_monitoring_gen EXCLUDE_FROM_ALL bench/monitoring/gen.cc)
target_link_libraries(bench_monitoring_gen PRIVATE doudi_common)
add_executable(bench_monitoring_engine EXCLUDE_FROM_ALL bench/monitoring/engine_main.cc)
target_link_libraries(bench_monitoring_engine PRIVATE doudi_monitoring_engine)
