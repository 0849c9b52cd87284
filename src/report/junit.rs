//! JUnit XML, as CI systems read it: one test suite, one test case per
//! scenario (× seed), failure text with the command that replays the run.

use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};

use super::{Report, Status};

/// Renders `report` as JUnit XML.
pub fn render(report: &Report) -> Result<String, quick_junit::SerializeError> {
    let mut suite = TestSuite::new("simnet conformance");
    for result in &report.results {
        let name = match result.seed {
            Some(seed) => format!("{} (seed {seed})", result.name),
            None => result.name.clone(),
        };
        let status = match result.status {
            Status::Passed => TestCaseStatus::success(),
            Status::Skipped => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(result.failures.first().cloned().unwrap_or_default());
                status
            }
            failed => {
                let kind = if failed == Status::Failed {
                    NonSuccessKind::Failure
                } else {
                    NonSuccessKind::Error
                };
                let mut status = TestCaseStatus::non_success(kind);
                let mut text = result.failures.join("\n");
                if let Some(replay) = &result.replay {
                    text.push_str(&format!("\nreplay: {replay}"));
                }
                status.set_message(result.failures.first().cloned().unwrap_or_default());
                status.set_description(text);
                status
            }
        };
        let mut case = TestCase::new(name, status);
        case.set_classname(result.file.clone());
        suite.add_test_case(case);
    }
    let mut junit = Junit::new("simnet");
    junit.add_test_suite(suite);
    junit.to_string()
}
