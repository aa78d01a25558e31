using BeijingEts.Functions.Tests.Ledger;
using BeijingEts.Functions.Tests.Reporting;

namespace BeijingEts.Functions.Tests.Surrender;

/// <summary>The settlement timer is off: the tests that need it run it themselves, so it never fires between a test's steps.</summary>
public sealed class SurrenderFixture : FastQueueFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        [$"AzureWebJobs.{nameof(BeijingEts.Functions.Surrender.SettlePendingSurrenders)}.Disabled"] = "true",
    };
}

/// <summary>Art. 27-28: key units surrender allowances and (within 5%) offsets against their confirmed emissions.</summary>
public sealed class SurrenderTests(SurrenderFixture app) : IClassFixture<SurrenderFixture>
{
    private readonly ReportingClient _reporting = new(app);
    private readonly LedgerClient _ledger = new(app);
    private static int Year => ReportingClient.CurrentYear - 1;
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A key unit with 1,000 t confirmed for the year, holding 1,200 t of BEA and 100 t of one CCER lot.</summary>
    private async Task<string> ObligedUnitAsync(long confirmed = 1000)
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);
        await _reporting.SubmitAsync(uscc, Year, ReportingClient.Report());
        await _reporting.ConfirmAsync(uscc, Year, confirmed);
        Assert.Equal("completed", (await _ledger.SettleAsync(_ledger.Regulator, "issuance", null, "issuance", 1200, vintage: Year)).GetProperty("status").GetString());
        Assert.Equal("completed", (await _ledger.SettleAsync(_ledger.Regulator, "allocation", "issuance", uscc, 1200, vintage: Year)).GetProperty("status").GetString());
        Assert.Equal("completed", (await _ledger.SettleAsync(_ledger.Regulator, "deposit", null, uscc, 100, vintage: Year, product: "CCER", lot: "CCER-001")).GetProperty("status").GetString());
        return uscc;
    }

    private Task<HttpResponseMessage> SurrenderAsync(string uscc, string id, params object[] items) =>
        app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/surrenders/{Year}", new { transactionId = id, items }, Ct);

    private static object Bea(long quantity, int? vintage = null) => new { product = "BEA", vintage = vintage ?? Year, quantity };

    private static object Ccer(long quantity) => new { product = "CCER", vintage = Year, quantity, lot = "CCER-001" };

    private async Task<JsonElement> ComplianceAsync(string uscc, Func<JsonElement, bool> settled)
    {
        JsonElement view = default;
        await Eventually.HoldsAsync(async () =>
        {
            view = await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/compliance/{Year}", Ct);
            return view.GetProperty("pendingT").GetInt64() == 0 && settled(view);
        }, $"unit {uscc}'s surrenders are settled");
        return view;
    }

    [Fact]
    public async Task PartialSurrenders_AddUp_ToCompliance_WithOffsetsCappedAt5Percent()
    {
        var uscc = await ObligedUnitAsync();

        Assert.Equal(HttpStatusCode.Accepted, (await SurrenderAsync(uscc, "s1", Ccer(50))).StatusCode);
        var overOffsets = await SurrenderAsync(uscc, "s2", Ccer(1));
        Assert.Contains("50 t are already surrendered or settling, so 0 t of offsets remain", (await overOffsets.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        var overObligation = await SurrenderAsync(uscc, "s3", Bea(951));
        Assert.Contains("at most 950 t more", (await overObligation.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Equal(HttpStatusCode.Accepted, (await SurrenderAsync(uscc, "s4", Bea(900))).StatusCode);

        var open = await ComplianceAsync(uscc, v => v.GetProperty("surrenderedAllowancesT").GetInt64() == 900);
        Assert.Equal(50, open.GetProperty("surrenderedOffsetsT").GetInt64());
        Assert.Equal(50, open.GetProperty("shortfallT").GetInt64());
        Assert.Equal("open", open.GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.Accepted, (await SurrenderAsync(uscc, "s5", Bea(50))).StatusCode);
        var done = await ComplianceAsync(uscc, v => v.GetProperty("status").GetString() == "compliant");
        Assert.Equal(1000, done.GetProperty("confirmedEmissionsT").GetInt64());
        Assert.Equal(0, done.GetProperty("shortfallT").GetInt64());
        Assert.Equal(250, await _ledger.HoldingAsync(uscc, vintage: Year));
        await _ledger.AssertNoDriftAsync();
    }

    [Fact]
    public async Task TheSameTransactionId_SurrendersOnce_AndAnotherSurrenderUnderIt_IsAConflict()
    {
        var uscc = await ObligedUnitAsync();

        Assert.Equal(HttpStatusCode.Accepted, (await SurrenderAsync(uscc, "same", Bea(300))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await SurrenderAsync(uscc, "same", Bea(300))).StatusCode);
        await (await SurrenderAsync(uscc, "same", Bea(301))).AssertProblemAsync(HttpStatusCode.Conflict);

        var view = await ComplianceAsync(uscc, v => v.GetProperty("surrenderedAllowancesT").GetInt64() > 0);
        Assert.Equal(300, view.GetProperty("surrenderedAllowancesT").GetInt64());
        Assert.Equal(900, await _ledger.HoldingAsync(uscc, vintage: Year));
    }

    /// <summary>
    /// Harm 1: the unit cancelled 1 t under the id its surrender was going to use, then surrendered 1,000 t, and was
    /// recorded as having surrendered 1,000 t while 999 t stayed in its account.
    /// </summary>
    [Fact]
    public async Task ACancellationUnderTheIdOfASurrender_CannotFakeIt()
    {
        var uscc = await ObligedUnitAsync();
        var unit = app.Client("unit", uscc);
        var theOldId = await _ledger.SettleAsync(unit, "cancellation", uscc, "cancellation", 1, vintage: Year, id: $"surrender-{Year}-{uscc}-s1-0");
        Assert.Equal("completed", theOldId.GetProperty("status").GetString()); // an ordinary id now: it is the unit's own cancellation
        var theSurrendersId = await _ledger.SubmitAsync(unit, "cancellation", uscc, "cancellation", 1, vintage: Year, id: BeijingEts.Domain.Ledger.LedgerIds.Surrender(Year, uscc, "s1", 0));
        Assert.Contains("namespace the platform keeps", (await theSurrendersId.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);

        Assert.Equal(HttpStatusCode.Accepted, (await SurrenderAsync(uscc, "s1", Bea(999))).StatusCode);

        var view = await ComplianceAsync(uscc, v => v.GetProperty("surrenderedAllowancesT").GetInt64() > 0);
        Assert.Equal(999, view.GetProperty("surrenderedAllowancesT").GetInt64());
        Assert.Equal(1200 - 1 - 999, await _ledger.HoldingAsync(uscc, vintage: Year)); // what it surrendered left its account
        await _ledger.AssertNoDriftAsync();
    }

    /// <summary>The GETs show the record as it stands and write nothing; the timer settles what is pending.</summary>
    [Fact]
    public async Task ReadingSurrendersAndCompliance_WritesNothing_AndPendingItemsSettleOnTheTimer()
    {
        var uscc = await ObligedUnitAsync();
        // A surrender recorded whose ledger transaction was never submitted: the process stopped in between.
        var item = new BeijingEts.Functions.Surrender.SurrenderItem(BeijingEts.Domain.Ledger.LedgerIds.Surrender(Year, uscc, "lost", 0), "BEA", Year, null,
            new BeijingEts.Domain.Ledger.Tonnes(100), BeijingEts.Functions.Surrender.SurrenderItemState.Pending, null);
        var record = new BeijingEts.Functions.Surrender.SurrenderRecord(uscc, Year,
            [new BeijingEts.Functions.Surrender.SurrenderSubmission("lost", DateTimeOffset.UtcNow, "test", [item])], DateTimeOffset.UtcNow);
        var store = app.Service<BeijingEts.Functions.Surrender.SurrenderStore>();
        Assert.True(await store.SaveAsync(record, null, Ct));
        var before = (await store.FindAsync(Year, uscc, Ct)).ETag;

        var surrenders = await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/surrenders/{Year}", Ct);
        var compliance = await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/compliance/{Year}", Ct);
        var table = await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/compliance/{Year}", Ct);

        Assert.Equal("pending", surrenders.GetProperty("submissions")[0].GetProperty("items")[0].GetProperty("state").GetString(), ignoreCase: true);
        Assert.Equal(100, compliance.GetProperty("pendingT").GetInt64());
        Assert.Equal(100, table.GetProperty("units").EnumerateArray().Single(u => u.GetProperty("unit").GetString() == uscc).GetProperty("pendingT").GetInt64());
        Assert.Equal(before, (await store.FindAsync(Year, uscc, Ct)).ETag);
        Assert.Equal(HttpStatusCode.NotFound, (await _ledger.Regulator.GetAsync($"/api/ledger/transactions/{item.LedgerTransactionId}", Ct)).StatusCode);
        Assert.Empty(await app.Client("unit", uscc).NoticesAsync("surrender.settled")); // nothing settled, nothing told

        await RunSettlePendingSurrendersAsync(); // submits the lost transaction; the ledger's queue settles it
        Assert.Equal("completed", (await _ledger.OutcomeAsync(item.LedgerTransactionId)).GetProperty("status").GetString());
        await RunSettlePendingSurrendersAsync(); // writes its outcome into the record

        var settled = (await store.FindAsync(Year, uscc, Ct)).Record!;
        Assert.Equal(BeijingEts.Functions.Surrender.SurrenderItemState.Completed, settled.Items.Single().State);
        var after = await ComplianceAsync(uscc, v => v.GetProperty("surrenderedAllowancesT").GetInt64() == 100);
        Assert.Equal(0, after.GetProperty("pendingT").GetInt64());
        Assert.Equal(1100, await _ledger.HoldingAsync(uscc, vintage: Year));
        // The unit is told its surrender went through, once, though the timer runs again.
        await RunSettlePendingSurrendersAsync();
        var told = Assert.Single(await app.Client("unit", uscc).NoticesAsync("surrender.settled"));
        Assert.Equal($"surrender-{Year}-lost", told.GetProperty("id").GetString());
        Assert.Equal($"You surrendered 100 t for {Year} (Art. 27).", told.GetProperty("bodyEn").GetString());
        Assert.Contains("已清缴", told.GetProperty("bodyZh").GetString());
        Assert.Null(await _ledger.Regulator.NoticeAsync($"surrender-{Year}-lost"));
    }

    private async Task RunSettlePendingSurrendersAsync()
    {
        var timer = new Dictionary<string, JsonElement> { ["timer"] = JsonSerializer.SerializeToElement(new { IsPastDue = false }) };
        var (succeeded, _) = await app.Service<BeijingEts.Functions.Hosting.Local.LocalInvoker>().InvokeAsync(
            nameof(BeijingEts.Functions.Surrender.SettlePendingSurrenders), new BeijingEts.Functions.Hosting.Invocation.InvocationRequest(timer, []), Guid.NewGuid().ToString("N"), Ct);
        Assert.True(succeeded);
    }

    [Fact]
    public async Task BadSurrenders_AreRefused_AndNothingMoves()
    {
        var uscc = await ObligedUnitAsync();

        var future = await SurrenderAsync(uscc, "f", Bea(10, vintage: Year + 1));
        var noLot = await SurrenderAsync(uscc, "n", new { product = "CCER", vintage = Year, quantity = 5 });
        var tooMuch = await SurrenderAsync(uscc, "t", Ccer(40), Ccer(20));
        var notHeld = await SurrenderAsync(uscc, "h", Bea(10, vintage: Year - 1));
        var byRegulator = await _ledger.Regulator.PostAsJsonAsync($"/api/units/{uscc}/surrenders/{Year}", new { transactionId = "r", items = new[] { Bea(10) } }, Ct);
        var direct = await _ledger.SubmitAsync(app.Client("unit", uscc), "surrender", uscc, "surrender", 10, vintage: Year);

        Assert.Contains($"only vintages up to {Year}", (await future.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        Assert.Contains("give lot", (await noLot.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        Assert.Contains("at most 5%", (await tooMuch.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Contains($"holds 0 t of BEA {Year - 1}", (await notHeld.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
        Assert.Equal(HttpStatusCode.Forbidden, byRegulator.StatusCode);
        Assert.Contains("surrenders/{year}", (await direct.AssertProblemAsync(HttpStatusCode.Forbidden)).Detail);
        Assert.Equal(1200, await _ledger.HoldingAsync(uscc, vintage: Year));
        Assert.Equal(HttpStatusCode.NotFound, (await _ledger.Regulator.GetAsync($"/api/units/{uscc}/surrenders/{Year}", Ct)).StatusCode);
    }

    [Fact]
    public async Task ASuspendedAccount_CannotSurrender()
    {
        var uscc = await ObligedUnitAsync();
        var suspended = await _ledger.Regulator.PostAsJsonAsync($"/api/accounts/{uscc}/suspensions", new { reason = "court-freeze", reference = "(2026) 京0105 执 123" }, Ct);
        Assert.True(suspended.IsSuccessStatusCode, await suspended.Content.ReadAsStringAsync(Ct));

        var refused = await SurrenderAsync(uscc, "x", Bea(100));

        Assert.Contains("is suspended", (await refused.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
    }

    [Fact]
    public async Task PastTheSurrenderDeadline_AShortfallIsNonCompliant_InTheRegulatorsTable()
    {
        var uscc = await ObligedUnitAsync();
        var compliant = await ObligedUnitAsync(confirmed: 100);
        var unconfirmed = await _reporting.ListedUnitAsync(Year);
        Assert.Equal(HttpStatusCode.Accepted, (await SurrenderAsync(uscc, "part", Bea(600))).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await SurrenderAsync(compliant, "all", Bea(100))).StatusCode);
        await ComplianceAsync(uscc, v => v.GetProperty("surrenderedAllowancesT").GetInt64() == 600);
        await ComplianceAsync(compliant, v => v.GetProperty("status").GetString() == "compliant");
        var past = DateTimeOffset.UtcNow.AddDays(-1);
        var schedule = new
        {
            listPublication = past.AddDays(-300), preAllocation = past.AddDays(-290), reportsDue = past.AddDays(-200), verificationDue = past.AddDays(-150),
            confirmationDue = past.AddDays(-100), verifiedAllocation = past.AddDays(-90), surrenderDue = past, close = past.AddDays(10),
        };
        Assert.Equal(HttpStatusCode.OK, (await _ledger.Regulator.PutAsJsonAsync($"/api/cycles/{Year}/schedule", schedule, Ct)).StatusCode);
        try
        {
            await AssertPastTheDeadlineAsync(uscc, compliant, unconfirmed);
        }
        finally
        {
            // The other tests of this class surrender for the same year: give it its window back.
            var future = DateTimeOffset.UtcNow.AddDays(300);
            Assert.Equal(HttpStatusCode.OK, (await _ledger.Regulator.PutAsJsonAsync($"/api/cycles/{Year}/schedule", new
            {
                listPublication = past.AddDays(-300), preAllocation = past.AddDays(-290), reportsDue = past.AddDays(-200), verificationDue = past.AddDays(-150),
                confirmationDue = past.AddDays(-100), verifiedAllocation = past.AddDays(-90), surrenderDue = future, close = future.AddDays(10),
            }, CancellationToken.None)).StatusCode);
        }
    }

    private async Task AssertPastTheDeadlineAsync(string uscc, string compliant, string unconfirmed)
    {

        var table = await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/compliance/{Year}", Ct);
        var byUnit = table.GetProperty("units").EnumerateArray().ToDictionary(u => u.GetProperty("unit").GetString()!);
        Assert.Equal("non-compliant", byUnit[uscc].GetProperty("status").GetString());
        Assert.Equal(400, byUnit[uscc].GetProperty("shortfallT").GetInt64());
        Assert.Equal("compliant", byUnit[compliant].GetProperty("status").GetString());
        Assert.Equal("no-confirmed-emissions", byUnit[unconfirmed].GetProperty("status").GetString());
        Assert.True(table.GetProperty("totals").GetProperty("nonCompliant").GetInt32() >= 1);
        var csv = await _ledger.Regulator.GetStringAsync($"/api/compliance/{Year}?format=csv", Ct);
        Assert.StartsWith("uscc,confirmedEmissionsT,surrenderedAllowancesT,surrenderedOffsetsT,pendingT,shortfallT,status", csv);
        Assert.Contains($"{uscc},1000,600,0,0,400,non-compliant", csv);
        Assert.Contains("\r\ntotal,", csv);
        var xlsx = await _ledger.Regulator.GetAsync($"/api/compliance/{Year}?format=xlsx", Ct);
        Assert.Equal("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", xlsx.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("unit", uscc).GetAsync($"/api/compliance/{Year}", Ct)).StatusCode);
        var late = await SurrenderAsync(uscc, "late", Bea(400));
        Assert.Contains("surrender window closed", (await late.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
    }

    [Fact]
    public async Task AScheduleOutOfOrder_IsRefused_NamingThePair()
    {
        var at = DateTimeOffset.UtcNow;
        var schedule = new
        {
            listPublication = at, preAllocation = at.AddHours(1), reportsDue = at.AddHours(2), verificationDue = at.AddHours(3),
            confirmationDue = at.AddHours(2.5), verifiedAllocation = at.AddHours(5), surrenderDue = at.AddHours(6), close = at.AddHours(7),
        };

        var refused = await _ledger.Regulator.PutAsJsonAsync($"/api/cycles/{Year + 5}/schedule", schedule, Ct);

        var detail = (await refused.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail!;
        Assert.Contains("confirmationDue", detail);
        Assert.Contains("verificationDue", detail);
        Assert.Equal(HttpStatusCode.NotFound, (await _ledger.Regulator.GetAsync($"/api/cycles/{Year + 5}/schedule", Ct)).StatusCode);
    }
}
