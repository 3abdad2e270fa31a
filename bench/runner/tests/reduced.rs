//! The reduced benchmark (`make bench BENCH=reduced`): every section runs on small sizes and
//! produces its rows. No figure is asserted: the figures are `make bench`'s to report.

use acgr_bench::{self as bench, Plan, Section};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reduced_benchmark_produces_a_row_for_every_section() {
    let report = bench::run(&Plan::reduced(), &|line: &str| eprintln!("bench: {line}")).await;
    println!("{}", report.table());
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    for section in Section::ALL {
        assert!(
            !report.section(section).is_empty(),
            "no row for section {} ({})",
            section.number(),
            section.title()
        );
    }
    // Packaging is the full pass's: the reduced pass says so rather than measuring it.
    assert_eq!(report.section(Section::Packages)[0].what, "not measured");
    assert!(report.section(Section::Association).len() >= 5);
}
