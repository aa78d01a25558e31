using BeijingEts.Functions.Cycle;
using BeijingEts.Functions.Hosting.Durable;

namespace BeijingEts.Functions.Surrender;

public static class SurrenderServices
{
    public static IServiceCollection AddSurrender(this IServiceCollection services) => services
        .AddSingleton<CycleScheduleStore>()
        .AddSingleton<SurrenderStore>()
        .AddSingleton<SuccessionObligations>()
        .AddSingleton<ComplianceService>()
        .AddSingleton<CycleStore>()
        .AddSingleton<CyclePhases>()
        .AddSingleton<CycleEngine>()
        .AddSingleton<CycleFaults>()
        .AddSingleton<CycleInstances>()
        .AddOrchestrator<YearlyCycle>()
        .AddActivity<MoveCycleOn>()
        .AddActivity<RunCycleSteps>();
}
