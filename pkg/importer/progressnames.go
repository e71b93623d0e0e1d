package importer

// Stage names a stage in [Progress.Start]; the command layer keys its
// rendering (what the total counts) on it.
type Stage string

// The stages that report progress.
const (
	StageOrgsData     Stage = "orgs:data"
	StageOrgsCreate   Stage = "orgs:create"
	StageImportData   Stage = "import:data"
	StageImport       Stage = "import"
	StageListImported Stage = "list:imported"
	StageSync         Stage = "sync"
)

// Counter names a counter in [Progress.Add]. The words are shown to people
// as they are ("12 kicked off").
type Counter string

// The counters the stages move.
const (
	CounterWorkspaces   Counter = "workspaces"
	CounterProjects     Counter = "projects"
	CounterRepositories Counter = "repositories"
	CounterOrgs         Counter = "orgs"
	CounterTargets      Counter = "targets"
	CounterKickedOff    Counter = "kicked off"
	CounterCompleted    Counter = "completed"
	CounterFailed       Counter = "failed"
	CounterSkipped      Counter = "skipped"
)
