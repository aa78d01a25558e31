using BeijingEts.Functions.Market;

namespace BeijingEts.Functions.Tests.Market;

/// <summary>
/// A matching round's funds movements go in one write per participant (issue 20). A round replayed after a crash can
/// group them otherwise, so each movement must still be applied exactly once, whatever group it comes in.
/// </summary>
public sealed class RoundFundsTests(EtsAppFixture app) : IClassFixture<EtsAppFixture>
{
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private static FundsMovement Charge(string id, long fen) => new(id, FundsMovementKind.Charge, fen, "round-test", DateTimeOffset.UtcNow);

    [Fact]
    public async Task MovementsAppliedInASmallerGroupBefore_AreNotAppliedAgain_AndTheRestAre()
    {
        var funds = app.Service<FundsStore>();
        var participant = "P" + Guid.NewGuid().ToString("N")[..12];
        await funds.ApplyAsync(participant, new FundsMovement("deposit", FundsMovementKind.Deposit, 1000, null, DateTimeOffset.UtcNow), Ct);

        Assert.Equal(FundsOutcome.Applied, (await funds.ApplyEachAsync(participant, [Charge("a", 100), Charge("b", 200)], Ct)).Outcome);
        Assert.Equal(FundsOutcome.Applied, (await funds.ApplyEachAsync(participant, [Charge("a", 100), Charge("b", 200), Charge("c", 300)], Ct)).Outcome); // the replay's larger round
        Assert.Equal(FundsOutcome.Applied, (await funds.ApplyEachAsync(participant, [Charge("c", 300)], Ct)).Outcome); // and a smaller one

        Assert.Equal(400, (await funds.BalanceAsync(participant, Ct)).AvailableFen);
        var journal = await funds.JournalAsync(participant, Ct);
        Assert.Equal(["a", "b", "c", "deposit"], journal.Select(m => m.TransactionId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AReplayedRoundOfManyMovements_AppliesOnlyThoseNotAppliedBefore_InWritesOf99()
    {
        var funds = app.Service<FundsStore>();
        var participant = "P" + Guid.NewGuid().ToString("N")[..12];
        await funds.ApplyAsync(participant, new FundsMovement("deposit", FundsMovementKind.Deposit, 1000, null, DateTimeOffset.UtcNow), Ct);
        var all = Enumerable.Range(0, 250).Select(i => Charge($"m{i:D3}", 1)).ToList();

        Assert.Equal(FundsOutcome.Applied, (await funds.ApplyEachAsync(participant, all.Take(120).ToList(), Ct)).Outcome); // the round as first formed
        Assert.Equal(FundsOutcome.Applied, (await funds.ApplyEachAsync(participant, all, Ct)).Outcome); // replayed over more commands

        Assert.Equal(750, (await funds.BalanceAsync(participant, Ct)).AvailableFen);
        Assert.Equal(251, (await funds.JournalAsync(participant, Ct)).Count);
    }

    [Fact]
    public async Task AGroupThatWouldOverdraw_IsRefusedWhole_AndAnIdHoldingOtherContentIsTaken()
    {
        var funds = app.Service<FundsStore>();
        var participant = "P" + Guid.NewGuid().ToString("N")[..12];
        await funds.ApplyAsync(participant, new FundsMovement("deposit", FundsMovementKind.Deposit, 500, null, DateTimeOffset.UtcNow), Ct);
        await funds.ApplyEachAsync(participant, [Charge("a", 100)], Ct);

        var (outcome, refusal) = await funds.ApplyEachAsync(participant, [Charge("a", 100), Charge("b", 300), Charge("c", 200)], Ct); // 100 + 300 + 200 > 500
        Assert.Equal(FundsOutcome.Refused, outcome);
        Assert.Contains("Available funds are", refusal);
        Assert.Equal(400, (await funds.BalanceAsync(participant, Ct)).AvailableFen); // only "a", from before
        Assert.Null(await funds.FindAsync(participant, "b", Ct));

        Assert.Equal(FundsOutcome.IdTaken, (await funds.ApplyEachAsync(participant, [Charge("a", 150)], Ct)).Outcome);
        Assert.Equal(400, (await funds.BalanceAsync(participant, Ct)).AvailableFen);
    }

    [Fact]
    public async Task FreezesAskedAtOnceOnOneAccount_TakeTurns_OneWriteEach_AndNeverOverdraw()
    {
        var funds = app.Service<FundsStore>();
        var participant = "P" + Guid.NewGuid().ToString("N")[..12];
        await funds.ApplyAsync(participant, new FundsMovement("deposit", FundsMovementKind.Deposit, 2_000, null, DateTimeOffset.UtcNow), Ct);
        FundsMovement Freeze(int i) => new($"order-{i:D2}-freeze", FundsMovementKind.Freeze, 100, $"order-{i:D2}", DateTimeOffset.UtcNow);

        // Twenty buy orders of one trader at once, as the bench's clients place them: each is one write of the balance
        // row as the last one left it, none a write that fails on the ETag and is read and written again.
        var (outcomes, requests) = await StorageRequestCount.OfAsync(() => Task.WhenAll(Enumerable.Range(0, 20).Select(i => funds.ApplyEachAsync(participant, [Freeze(i)], Ct))));
        Assert.All(outcomes, o => Assert.Equal(FundsOutcome.Applied, o.Outcome));
        Assert.Equal(20, requests);
        Assert.Equal(new FundsBalance(0, 2_000), await funds.BalanceAsync(participant, Ct));

        // Five more at once find nothing available: each is refused, on the row as storage holds it, and nothing is written.
        var refused = await Task.WhenAll(Enumerable.Range(20, 5).Select(i => funds.ApplyEachAsync(participant, [Freeze(i)], Ct)));
        Assert.All(refused, r => Assert.Equal(FundsOutcome.Refused, r.Outcome));
        Assert.Equal(new FundsBalance(0, 2_000), await funds.BalanceAsync(participant, Ct));
        Assert.Equal(21, (await funds.JournalAsync(participant, Ct)).Count);

        // A movement whose caller gave up while waiting for its turn writes nothing and leaves the account free.
        using var gaveUp = new CancellationTokenSource();
        await gaveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => funds.ApplyEachAsync(participant, [Freeze(30)], gaveUp.Token));
        Assert.Null(await funds.FindAsync(participant, "order-30-freeze", Ct));
        Assert.Equal(FundsOutcome.Applied, (await funds.ApplyEachAsync(participant, [new FundsMovement("order-00-release", FundsMovementKind.Release, 100, "order-00", DateTimeOffset.UtcNow)], Ct)).Outcome);
        Assert.Equal(new FundsBalance(100, 1_900), await funds.BalanceAsync(participant, Ct));
    }
}
