using BeijingEts.Domain.Approvals;
using Xunit;

namespace BeijingEts.Domain.Tests;

public class ProposalTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    private static Proposal New() => new("p1", "ledger.issuance", "ledger/transactions/t1", "issue 10 t", "local:regulator:alice", At);

    [Fact]
    public void Approve_ByAnotherRegulator_MovesToApproved()
    {
        var (verdict, approved) = New().Approve("local:regulator:bob", At.AddMinutes(1));

        Assert.Equal(DecisionVerdict.Decided, verdict);
        Assert.Equal(ProposalStatus.Approved, approved.Status);
        Assert.Equal("local:regulator:bob", approved.DecidedBy);
        Assert.Equal(At.AddMinutes(1), approved.DecidedAt);
    }

    [Fact]
    public void ApproveOrReject_ByTheProposer_IsRefusedAndChangesNothing()
    {
        var proposal = New();

        Assert.Equal((DecisionVerdict.OwnProposal, proposal), proposal.Approve("local:regulator:alice", At));
        Assert.Equal((DecisionVerdict.OwnProposal, proposal), proposal.Reject("local:regulator:alice", At));
    }

    [Fact]
    public void Approve_Twice_BySameApprover_IsAlreadyDecided_ByAnother_IsDecidedOtherwise()
    {
        var (_, approved) = New().Approve("local:regulator:bob", At);

        Assert.Equal(DecisionVerdict.AlreadyDecided, approved.Approve("local:regulator:bob", At.AddHours(1)).Verdict);
        Assert.Equal(DecisionVerdict.AlreadyDecided, approved.Complete("done", At).Approve("local:regulator:bob", At).Verdict);
        Assert.Equal(DecisionVerdict.DecidedOtherwise, approved.Approve("local:regulator:carol", At).Verdict);
        Assert.Equal(DecisionVerdict.DecidedOtherwise, approved.Reject("local:regulator:bob", At).Verdict);
    }

    [Fact]
    public void Reject_EndsIt_AndCannotThenBeApproved()
    {
        var (verdict, rejected) = New().Reject("local:regulator:bob", At);

        Assert.Equal(DecisionVerdict.Decided, verdict);
        Assert.Equal(ProposalStatus.Rejected, rejected.Status);
        Assert.True(rejected.IsFinished);
        Assert.Equal(DecisionVerdict.DecidedOtherwise, rejected.Approve("local:regulator:carol", At).Verdict);
        Assert.Equal(DecisionVerdict.AlreadyDecided, rejected.Reject("local:regulator:bob", At).Verdict);
        Assert.Throws<InvalidOperationException>(() => rejected.Complete("done", At));
    }

    [Fact]
    public void CompleteAndFail_OnlyFromApproved()
    {
        Assert.Throws<InvalidOperationException>(() => New().Complete("done", At));
        var (_, approved) = New().Approve("local:regulator:bob", At);

        var executed = approved.Complete("transaction t1 submitted", At.AddSeconds(5));
        var failed = approved.Fail("account closed", At.AddSeconds(5));

        Assert.Equal((ProposalStatus.Executed, "transaction t1 submitted", (string?)null), (executed.Status, executed.Outcome, executed.FailureReason));
        Assert.Equal((ProposalStatus.Failed, (string?)null, "account closed"), (failed.Status, failed.Outcome, failed.FailureReason));
        Assert.Throws<InvalidOperationException>(() => executed.Fail("again", At));
    }
}
